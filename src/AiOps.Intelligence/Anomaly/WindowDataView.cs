using Microsoft.ML;
using Microsoft.ML.Data;

namespace AiOps.Intelligence.Anomaly;

/// <summary>
/// A read-only <see cref="IDataView"/> over fixed-length float windows: one vector column,
/// <see cref="FeaturesColumn"/>, rows in list order. Cursors hand out the windows without copying them into
/// objects first and without generating code (the enumerable loader compiles getters per call).
/// </summary>
internal sealed class WindowDataView : IDataView
{
    public const string FeaturesColumn = "Features";

    private readonly IReadOnlyList<float[]> _windows;

    public WindowDataView(IReadOnlyList<float[]> windows, int dimension)
    {
        _windows = windows;
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(FeaturesColumn, new VectorDataViewType(NumberDataViewType.Single, dimension));
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _windows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Any(c => c.Index == 0));

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(WindowDataView view, bool featuresActive) : DataViewRowCursor
    {
        private long _position = -1;

        public override DataViewSchema Schema => view.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_position + 1 >= view._windows.Count)
            {
                _position = view._windows.Count;
                return false;
            }
            _position++;
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => column.Index == 0 && featuresActive;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != 0 || !featuresActive)
                throw new ArgumentOutOfRangeException(nameof(column), $"column {column.Name} is not active in this cursor");
            if (typeof(TValue) != typeof(VBuffer<float>))
                throw new InvalidOperationException($"column {FeaturesColumn} holds VBuffer<float>, not {typeof(TValue).Name}");
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                var window = view._windows[(int)_position];
                var editor = VBufferEditor.Create(ref value, window.Length);
                window.AsSpan().CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);
    }
}
