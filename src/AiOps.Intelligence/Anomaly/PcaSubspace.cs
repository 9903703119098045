using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace AiOps.Intelligence.Anomaly;

/// <summary>
/// A low-rank linear subspace of fixed-length windows, fitted with ML.NET's RandomizedPca trainer.
/// Scoring uses the absolute reconstruction error computed from the fitted eigenvectors
/// (ML.NET's own PCA score is relative to the window norm, which cancels out spike size).
/// </summary>
public sealed class PcaSubspace
{
    private readonly float[] _mean;      // dim
    private readonly float[] _basis;     // rank x dim, row-major, orthonormal rows

    public int Dimension { get; }
    public int Rank { get; }

    private PcaSubspace(int dim, int rank, float[] mean, float[] basis)
    {
        Dimension = dim; Rank = rank; _mean = mean; _basis = basis;
    }


    /// <summary>
    /// Fits the subspace with ML.NET RandomizedPca (single-threaded, deterministic seed). A <paramref name="rank"/> of 0
    /// or less chooses it from the data: the leading components whose share of the windows' variance exceeds the
    /// broken-stick expectation (what the same component of variance split at random among the window's free
    /// directions would hold), at least one, at most half the window.
    /// </summary>
    public static PcaSubspace Fit(IReadOnlyList<float[]> windows, int rank)
    {
        if (windows.Count == 0) throw new ArgumentException("no windows", nameof(windows));
        int dim = windows[0].Length;
        bool choose = rank <= 0;
        rank = choose ? Math.Max(1, dim / 2) : Math.Clamp(rank, 1, dim - 1);
        // degenerate data (flat lines, exact repeats): the subspace is just the mean
        var meanW = new float[dim];
        foreach (var w in windows) for (int i = 0; i < dim; i++) meanW[i] += w[i] / windows.Count;
        double energy = 0;
        foreach (var w in windows) for (int i = 0; i < dim; i++) energy += (w[i] - meanW[i]) * (w[i] - meanW[i]);
        if (energy / windows.Count < 1e-8) return new PcaSubspace(dim, 0, meanW, []);
        try
        {
            var fit = FitCore(windows, rank, dim);
            return choose ? fit.BrokenStick(windows) : fit;
        }
        catch (ArgumentOutOfRangeException)
        {
            // RandomizedPca rejects rank-deficient data (NaN eigenvectors): fall back to the mean-only model
            return new PcaSubspace(dim, 0, meanW, []);
        }
    }

    private static PcaSubspace FitCore(IReadOnlyList<float[]> windows, int rank, int dim)
    {
        // a fresh MLContext per training: a long-lived shared context retains ~5 KB per training (measured),
        // which would grow without bound in a silo that re-trains thousands of detectors
        var ml = new MLContext(seed: 17);
        // The windows reach the trainer through a small IDataView of our own: LoadFromEnumerable emits dynamic
        // methods for every call, and finalising those cost the finalizer thread more CPU than the fit itself.
        var data = new WindowDataView(windows, dim);
        var trainer = ml.AnomalyDetection.Trainers.RandomizedPca(new RandomizedPcaTrainer.Options
        {
            FeatureColumnName = WindowDataView.FeaturesColumn,
            Rank = rank,
            Oversampling = 10,
            EnsureZeroMean = true,
            Seed = 17,
        });
        var model = trainer.Fit(data).Model;
        VBuffer<float>[] vecs = [];
        model.GetEigenVectors(ref vecs, out int got);
        VBuffer<float> meanBuf = default;
        model.GetMean(ref meanBuf);
        var mean = new float[dim];
        if (meanBuf.Length == dim) meanBuf.CopyTo(mean);
        var basis = new float[got * dim];
        for (int r = 0; r < got; r++)
        {
            var dense = vecs[r].DenseValues().ToArray();
            Array.Copy(dense, 0, basis, r * dim, Math.Min(dim, dense.Length));
        }
        return new PcaSubspace(dim, got, mean, basis);
    }

    /// <summary>
    /// The leading components (by their variance over <paramref name="windows"/>) that beat the broken-stick rule: with
    /// p free directions (the window less its mean, which each window has removed), the k-th largest of p shares of a
    /// stick broken at random is expected to hold (1/p) Σ_{i=k..p} 1/i. A component above that holds structure; the
    /// first one at or below it, and all after it, are taken for noise. At least one component is kept.
    /// </summary>
    private PcaSubspace BrokenStick(IReadOnlyList<float[]> windows)
    {
        int dim = Dimension;
        if (Rank <= 1) return this;
        var variance = new double[Rank];
        double total = 0;
        Span<float> c = stackalloc float[dim];
        foreach (var w in windows)
        {
            for (int i = 0; i < dim; i++) { c[i] = w[i] - _mean[i]; total += (double)c[i] * c[i]; }
            for (int r = 0; r < Rank; r++)
            {
                double dot = 0;
                for (int i = 0; i < dim; i++) dot += _basis[r * dim + i] * c[i];
                variance[r] += dot * dot;
            }
        }
        if (total <= 0) return this;
        var order = Enumerable.Range(0, Rank).OrderByDescending(r => variance[r]).ToArray();
        int p = Math.Max(2, dim - 1);
        int keep = 0;
        while (keep < order.Length)
        {
            double expected = 0;
            for (int i = keep + 1; i <= p; i++) expected += 1.0 / i;
            expected /= p;
            if (variance[order[keep]] / total <= expected) break;
            keep++;
        }
        keep = Math.Max(1, keep);
        var basis = new float[keep * dim];
        for (int k = 0; k < keep; k++) Array.Copy(_basis, order[k] * dim, basis, k * dim, dim);
        return new PcaSubspace(dim, keep, _mean, basis);
    }

    /// <summary>Squared Euclidean distance of <paramref name="window"/> to the subspace.</summary>
    public double ResidualSquared(ReadOnlySpan<float> window)
    {
        int dim = Dimension;
        Span<float> c = stackalloc float[dim];
        double norm2 = 0;
        for (int i = 0; i < dim; i++) { c[i] = window[i] - _mean[i]; norm2 += c[i] * c[i]; }
        double proj2 = 0;
        for (int r = 0; r < Rank; r++)
        {
            double dot = 0;
            int off = r * dim;
            for (int i = 0; i < dim; i++) dot += _basis[off + i] * c[i];
            proj2 += dot * dot;
        }
        return Math.Max(0, norm2 - proj2);
    }

    public int EstimatedBytes => 4 * (_mean.Length + _basis.Length) + 48;

    public void Write(BinaryWriter w)
    {
        w.Write(Dimension); w.Write(Rank);
        foreach (var f in _mean) w.Write(f);
        foreach (var f in _basis) w.Write(f);
    }

    public static PcaSubspace Read(BinaryReader r)
    {
        int dim = r.ReadInt32(), rank = r.ReadInt32();
        var mean = new float[dim];
        for (int i = 0; i < dim; i++) mean[i] = r.ReadSingle();
        var basis = new float[rank * dim];
        for (int i = 0; i < basis.Length; i++) basis[i] = r.ReadSingle();
        return new PcaSubspace(dim, rank, mean, basis);
    }
}
