using AiOps.Abstractions;

namespace AiOps.Grains.Entities;

/// <summary>
/// Which part of the ingest log is not yet covered by saved grain state, so that the log can be trimmed behind it.
/// The publisher tells, per entity batch, the log positions it carries; an entity grain tells, after each save (or
/// when a batch it had already saved comes again), the position its saved state covers. An entity is pending from
/// its first published position after its last save until a save covers the highest position published to it.
/// One per silo: in embedded mode the publisher and every entity grain live in the same process.
/// </summary>
public sealed class IngestCheckpoints
{
    private readonly object _gate = new();
    private readonly Dictionary<(int, EntityKind, string), Entry> _pending = [];

    public struct Entry
    {
        public long FirstUnsaved;
        public long LastPublished;
        public long LastPublishedTicks;
    }

    /// <summary>Entities with published log positions that no save covers yet.</summary>
    public int PendingEntities
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>The publisher hands an entity a batch covering log positions <paramref name="first"/>..<paramref name="last"/>.</summary>
    public void Published(EntityKind kind, string id, long first, long last) => Published(0, kind, id, first, last);

    /// <summary>As above, for a partition; returns the last position published to the entity before (0: none pending).</summary>
    public long Published(int partition, EntityKind kind, string id, long first, long last)
    {
        if (last <= 0) return 0;
        lock (_gate)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pending, (partition, kind, id), out var known);
            var previous = known ? entry.LastPublished : 0;
            if (!known) entry.FirstUnsaved = first;
            if (last > entry.LastPublished) entry.LastPublished = last;
            entry.LastPublishedTicks = Environment.TickCount64;
            return previous;
        }
    }

    /// <summary>Entities of a partition whose last publish is older than <paramref name="age"/> and that no save covers yet.</summary>
    public List<(EntityKind Kind, string Id, Entry Entry)> StalePending(int partition, TimeSpan age)
    {
        var cutoff = Environment.TickCount64 - (long)age.TotalMilliseconds;
        var result = new List<(EntityKind, string, Entry)>();
        lock (_gate)
        {
            foreach (var ((p, kind, id), entry) in _pending)
                if (p == partition && entry.LastPublishedTicks < cutoff) result.Add((kind, id, entry));
            // Looked at now: not again before another period has passed.
            var now = Environment.TickCount64;
            foreach (var (kind, id, _) in result)
                System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_pending, (partition, kind, id)).LastPublishedTicks = now;
        }
        return result;
    }

    /// <summary>The entity's saved state covers every log position up to <paramref name="position"/>.</summary>
    public void Saved(EntityKind kind, string id, long position) => Saved(0, kind, id, position);

    /// <summary>As above, for a partition.</summary>
    public void Saved(int partition, EntityKind kind, string id, long position)
    {
        lock (_gate)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_pending, (partition, kind, id));
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry)) return;
            if (position >= entry.LastPublished) _pending.Remove((partition, kind, id));
            else if (position + 1 > entry.FirstUnsaved) entry.FirstUnsaved = position + 1;
        }
    }

    /// <summary>
    /// Embedded mode: called (inside the entity's turn; it must not block or call the entity) when an entity refused a
    /// stream batch because an earlier one never reached it. Arguments: partition, kind, id, the position it holds.
    /// </summary>
    public Action<int, EntityKind, string, long>? GapHandler { get; set; }

    /// <summary>An entity holds only up to <paramref name="applied"/> but was sent batches after later positions.</summary>
    public void Gap(int partition, EntityKind kind, string id, long applied) => GapHandler?.Invoke(partition, kind, id, applied);

    /// <summary>The lowest log position some entity has been handed but not saved, or null when none.</summary>
    public long? LowestUnsaved(int partition = 0)
    {
        lock (_gate)
        {
            var min = long.MaxValue;
            foreach (var ((p, _, _), e) in _pending) if (p == partition && e.FirstUnsaved < min) min = e.FirstUnsaved;
            return min == long.MaxValue ? null : min;
        }
    }
}
