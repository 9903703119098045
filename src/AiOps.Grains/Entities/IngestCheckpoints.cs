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
    private readonly Dictionary<(EntityKind, string), Entry> _pending = [];

    private struct Entry
    {
        public long FirstUnsaved;
        public long LastPublished;
    }

    /// <summary>Entities with published log positions that no save covers yet.</summary>
    public int PendingEntities
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>The publisher hands an entity a batch covering log positions <paramref name="first"/>..<paramref name="last"/>.</summary>
    public void Published(EntityKind kind, string id, long first, long last)
    {
        if (last <= 0) return;
        lock (_gate)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pending, (kind, id), out var known);
            if (!known) entry.FirstUnsaved = first;
            if (last > entry.LastPublished) entry.LastPublished = last;
        }
    }

    /// <summary>The entity's saved state covers every log position up to <paramref name="position"/>.</summary>
    public void Saved(EntityKind kind, string id, long position)
    {
        lock (_gate)
        {
            ref var entry = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(_pending, (kind, id));
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref entry)) return;
            if (position >= entry.LastPublished) _pending.Remove((kind, id));
            else if (position + 1 > entry.FirstUnsaved) entry.FirstUnsaved = position + 1;
        }
    }

    /// <summary>The lowest log position some entity has been handed but not saved, or null when none.</summary>
    public long? LowestUnsaved()
    {
        lock (_gate)
        {
            if (_pending.Count == 0) return null;
            var min = long.MaxValue;
            foreach (var e in _pending.Values) if (e.FirstUnsaved < min) min = e.FirstUnsaved;
            return min;
        }
    }
}
