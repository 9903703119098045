namespace AiOps.Intelligence.Anomaly;

/// <summary>
/// Contextual member (in the spirit of contextual anomaly detectors such as CAD-OSE, built here from the principle):
/// each value is discretised into a few <em>facts</em>, the detector learns online which facts followed which recent
/// facts (the <em>contexts</em>), and a point's raw score is the share of its facts that the active contexts did not
/// predict.
/// <list type="bullet">
/// <item>Facts: a scalar code of the value over <see cref="Positions"/> = 64 positions (one machine word per context):
/// the value sets <see cref="Width"/> = 8 neighbouring positions, so that a value close to a predicted one shares most
/// of its facts and the share not predicted grows with the distance (in units of the range / 40) up to 8 units.</item>
/// <item>Range, causally: the minimum and maximum of the history the detector keeps, taken at each training (never
/// the file's range, which a streaming detector cannot know). The known range spans positions 8..48, so a value up
/// to one fifth of the range beyond it still has positions of its own; beyond that it is clamped.</item>
/// <item>Contexts: the previous value's code (order 1) and the pair of the previous two codes (order 2: the same
/// value going up or down). The raw score is the mean of the two orders' unpredicted shares.</item>
/// <item>Memory: when the range changes (at each training) the codes change meaning, so the contexts are re-learned
/// by replaying the history the detector keeps (points from the past only): what the member knows is the last
/// 2,048-4,096 points, the same horizon as the rest of the detector, and it never saturates.</item>
/// </list>
/// Each context stores the positions that followed it as a 64-bit mask: 57 + 57×57 words = 26.4 KB.
/// </summary>
internal sealed class ContextModel
{
    public const int Positions = 64;
    public const int Width = 8;
    private const int Starts = Positions - Width + 1;      // 57 codes (first active position)
    private const int RangeSteps = Positions - 3 * Width;  // the known range spans 40 steps, from Width to Width + 40

    private readonly ulong[] _order1 = new ulong[Starts];
    private readonly ulong[] _order2 = new ulong[Starts * Starts];
    private double _lo, _step;
    private int _prev1 = -1, _prev2 = -1;                  // codes of the last two learned values (-1 = none)

    public TailCalibrator Calibrator { get; }

    private readonly bool _order2Used;
    private readonly bool _knownOnly;
    private ulong _seen;                                   // every position learned so far (union of all masks)

    // optional coarse facts: the same kind of code with steps of an eighth of the known range, so one code width = the
    // whole known range: so a coarse fact is unpredicted only when the value is about a range or more away from everything that
    // followed its context; predicted by the order-1 context (57 more words)
    private const int CoarseFactor = RangeSteps / Width;   // 5 fine steps per coarse step
    private const int CoarseOffset = (Starts - 1 - Width) / 2;             // known range at coarse codes 24..32: 3 ranges of margin each side
    private readonly ulong[]? _order1Coarse;
    private ulong _seenCoarse;

    public ContextModel(double halfLife, int orders = 2, bool knownFactsOnly = false, bool coarseFacts = false)
    {
        _knownOnly = knownFactsOnly;
        _order1Coarse = coarseFacts ? new ulong[Starts] : null;
        if (orders is < 1 or > 2) throw new ArgumentOutOfRangeException(nameof(orders), "context orders must be 1 or 2");
        Calibrator = new TailCalibrator(halfLife);
        _order2Used = orders == 2;
    }

    /// <summary>True once a range is known (after the detector's first training).</summary>
    public bool Ready => _step > 0;

    public int EstimatedBytes => (Starts + Starts * Starts + (_order1Coarse?.Length ?? 0)) * 8 + 3 * 24 + Calibrator.EstimatedBytes + 64;

    /// <summary>Coarse code of a value (steps of <see cref="CoarseFactor"/> fine steps).</summary>
    public int CoarseCode(double x)
    {
        double r = (x - _lo) / _step;
        if (double.IsNaN(r)) return CoarseOffset;
        return (int)Math.Clamp(Math.Floor(r / CoarseFactor) + CoarseOffset, 0, Starts - 1);
    }

    /// <summary>Code (first active position) of a value.</summary>
    public int Code(double x)
    {
        double r = (x - _lo) / _step;
        if (double.IsNaN(r)) return Width;
        return (int)Math.Clamp(Math.Floor(r) + Width, 0, Starts - 1);
    }

    private static ulong Mask(int code) => ((1UL << Width) - 1) << code;

    private static double Unpredicted(ulong predicted, ulong facts) =>
        System.Numerics.BitOperations.PopCount(facts & ~predicted) / (double)Width;

    /// <summary>Raw score of <paramref name="x"/> as the next value: the mean share of its facts that the order-1 and order-2 contexts did not predict.</summary>
    public double Raw(double x)
    {
        ulong facts = Mask(Code(x));
        if (_knownOnly) facts &= _seen;
        double u1 = _prev1 < 0 ? 1 : Unpredicted(_order1[_prev1], facts);
        double sum = u1;
        int terms = 1;
        if (_order2Used)
        {
            sum += _prev2 < 0 ? 1 : Unpredicted(_order2[_prev2 * Starts + _prev1], facts);
            terms++;
        }
        if (_order1Coarse is not null)
        {
            ulong coarse = Mask(CoarseCode(x));
            if (_knownOnly) coarse &= _seenCoarse;
            sum += _prev1 < 0 ? 1 : Unpredicted(_order1Coarse[_prev1], coarse);
            terms++;
        }
        return sum / terms;
    }

    /// <summary>Learns <paramref name="x"/> as following the current contexts.</summary>
    public void Learn(double x)
    {
        if (!Ready) return;
        int c = Code(x);
        ulong facts = Mask(c);
        _seen |= facts;
        ulong coarse = _order1Coarse is null ? 0 : Mask(CoarseCode(x));
        _seenCoarse |= coarse;
        if (_prev1 >= 0)
        {
            _order1[_prev1] |= facts;
            if (_order1Coarse is not null) _order1Coarse[_prev1] |= coarse;
            if (_prev2 >= 0) _order2[_prev2 * Starts + _prev1] |= facts;
        }
        _prev2 = _prev1;
        _prev1 = c;
    }

    /// <summary>
    /// Sets the range from the sorted history (min and max) and re-learns the contexts from <paramref name="history"/>
    /// (oldest first). When <paramref name="seed"/> is set (the calibrator is empty), the second half of the replay is
    /// scored before it is learned, exactly as it would have been live, and those raw scores seed the calibrator
    /// (an empty calibrator turns the first ordinary scores into extreme surprises); the first half only teaches, since
    /// scores from an almost empty memory are not what later points will be compared with.
    /// </summary>
    public void Rebuild(double min, double max, ReadOnlySpan<double> history, bool seed)
    {
        double floor = 1e-9 + 1e-6 * Math.Max(Math.Abs(min), Math.Abs(max));
        _lo = min;
        _step = Math.Max(max - min, floor) / RangeSteps;
        Array.Clear(_order1);
        Array.Clear(_order2);
        _seen = 0;
        _seenCoarse = 0;
        if (_order1Coarse is not null) Array.Clear(_order1Coarse);
        _prev1 = _prev2 = -1;
        int half = history.Length / 2;
        for (int i = 0; i < history.Length; i++)
        {
            double v = history[i];
            if (!double.IsFinite(v)) continue;
            if (seed && i >= half) Calibrator.Add(Raw(v));
            Learn(v);
        }
    }

    public void Write(BinaryWriter w)
    {
        w.Write(_lo); w.Write(_step); w.Write(_prev1); w.Write(_prev2); w.Write(_seen);
        if (_order1Coarse is not null)
        {
            w.Write(_seenCoarse);
            foreach (var m in _order1Coarse) w.Write(m);
        }
        foreach (var m in _order1) w.Write(m);
        int n = 0;
        foreach (var m in _order2) if (m != 0) n++;
        w.Write(n);
        for (int i = 0; i < _order2.Length; i++)
        {
            if (_order2[i] == 0) continue;
            w.Write((ushort)i); w.Write(_order2[i]);
        }
        Calibrator.Write(w);
    }

    public void Read(BinaryReader r, bool normalisedCalibrator = false)
    {
        _lo = r.ReadDouble(); _step = r.ReadDouble(); _prev1 = r.ReadInt32(); _prev2 = r.ReadInt32(); _seen = r.ReadUInt64();
        if (_order1Coarse is not null)
        {
            _seenCoarse = r.ReadUInt64();
            for (int i = 0; i < _order1Coarse.Length; i++) _order1Coarse[i] = r.ReadUInt64();
        }
        for (int i = 0; i < _order1.Length; i++) _order1[i] = r.ReadUInt64();
        Array.Clear(_order2);
        int n = r.ReadInt32();
        for (int k = 0; k < n; k++)
        {
            int i = r.ReadUInt16();
            _order2[i] = r.ReadUInt64();
        }
        Calibrator.Read(r, normalisedCalibrator);
    }
}
