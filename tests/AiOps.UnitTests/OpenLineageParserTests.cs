using System.Text;
using AiOps.Abstractions;
using AiOps.Server.Lineage;

namespace AiOps.UnitTests;

public sealed class OpenLineageParserTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    private static string Event(string extra = "", string time = "2026-11-30T11:00:00.000Z", string type = "COMPLETE") =>
        "{\"eventType\":\"" + type + "\",\"eventTime\":\"" + time + "\",\"run\":{\"runId\":\"ea041791-68bc-4ae1-bd89-4c8106a157e4\"}," +
        "\"job\":{\"namespace\":\"ns\",\"name\":\"job\"},\"producer\":\"https://p.test/x\",\"schemaURL\":\"https://openlineage.io/spec/2-0-2/OpenLineage.json\"" + extra + "}";

    private static (List<OpenLineageEvent> Events, List<LineageError> Errors) Parse(string body)
    {
        var (events, errors, _) = OpenLineageParser.Parse(Encoding.UTF8.GetBytes(body), Now);
        return (events, errors);
    }

    [Fact]
    public void AValidRunEventIsReadWithItsRunJobAndTime()
    {
        var (events, errors) = Parse(Event());
        Assert.Empty(errors);
        var e = Assert.Single(events);
        Assert.Equal("COMPLETE", e.EventType);
        Assert.Equal("ea041791-68bc-4ae1-bd89-4c8106a157e4", e.RunId);
        Assert.Equal(("ns", "job"), (e.JobNamespace, e.JobName));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 11, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), e.EventTimeMs);
    }

    [Fact]
    public void ATimeWithoutOffsetIsReadAsUtc()
    {
        var (events, errors) = Parse(Event(time: "2026-11-30T11:00:00.427343"));
        Assert.Empty(errors);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 11, 0, 0, 427, TimeSpan.Zero).ToUnixTimeMilliseconds(), events[0].EventTimeMs);
    }

    [Theory]
    [InlineData("{\"eventType\":\"START\"}", "/eventTime")]
    [InlineData("[{\"eventType\":\"START\"}]", "/0/eventTime")]
    [InlineData("{\"eventTime\": ", "")]
    [InlineData("[]", "")]
    [InlineData("42", "")]
    public void InvalidBodiesNameTheField(string body, string pointer)
    {
        var (events, errors) = Parse(body);
        Assert.Empty(events);
        Assert.Contains(errors, e => e.Pointer == pointer);
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\xff")]
    public void InvalidUtf8OrALoneSurrogateIsAnErrorNotAnException(string bad)
    {
        var text = Event().Replace("\"job\"}", "\"job" + (bad == "\\ud800" ? "\\ud800" : "X") + "\"}");
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bad == "\xff") bytes[Array.IndexOf(bytes, (byte)'X')] = 0xff;
        var (events, errors, _) = OpenLineageParser.Parse(bytes, Now);
        Assert.Empty(events);
        Assert.NotEmpty(errors);
    }

    [Fact]
    public void OneInvalidEventInAnArrayRefusesTheWholeArray()
    {
        var (events, errors) = Parse("[" + Event() + "," + Event(type: "DONE") + "]");
        Assert.Empty(events);
        Assert.Equal("/1/eventType", Assert.Single(errors).Pointer);
    }

    [Fact]
    public void FacetsTheServerReadsAreChecked()
    {
        var badRows = Event(",\"outputs\":[{\"namespace\":\"n\",\"name\":\"d\",\"outputFacets\":{\"outputStatistics\":{\"rowCount\":-1}}}]");
        Assert.Equal("/outputs/0/outputFacets/outputStatistics/rowCount", Assert.Single(Parse(badRows).Errors).Pointer);
        var badParent = Event(",\"run\":{\"runId\":\"ea041791-68bc-4ae1-bd89-4c8106a157e4\",\"facets\":{\"parent\":{\"run\":{}}}}");
        Assert.Equal("/run/facets/parent/job", Assert.Single(Parse(badParent).Errors).Pointer);
    }

    [Fact]
    public void StatisticsAssertionsSchemaAndOwnersAreRead()
    {
        var (events, errors) = Parse(Event(
            ",\"inputs\":[{\"namespace\":\"n\",\"name\":\"in\",\"inputFacets\":{\"inputStatistics\":{\"rowCount\":7}," +
            "\"dataQualityAssertions\":{\"assertions\":[{\"assertion\":\"a\",\"success\":false},{\"assertion\":\"b\",\"success\":true}]}}}]" +
            ",\"outputs\":[{\"namespace\":\"n\",\"name\":\"out\",\"facets\":{\"schema\":{\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}," +
            "\"ownership\":{\"owners\":[{\"name\":\"team:data\",\"type\":\"TEAM\"}]}}}]"));
        Assert.Empty(errors);
        var e = events[0];
        Assert.Equal(7, e.Inputs[0].RowCount);
        Assert.Equal((2, 1), (e.Inputs[0].Assertions, e.Inputs[0].FailedAssertions));
        Assert.Equal([new DatasetField("id", "int")], e.Outputs[0].Fields!);
        Assert.Equal([new DatasetOwner("team:data", "TEAM")], e.Outputs[0].Owners!);
        Assert.NotEqual(0UL, e.Outputs[0].FactsHash);
        Assert.Equal(0UL, e.Inputs[0].FactsHash);
    }
}

public sealed class LineageIdsTests
{
    [Fact]
    public void APlainNamespaceAndNameIsTheIdAsIs() => Assert.Equal("food_delivery:dbt", LineageIds.For("food_delivery", "dbt"));

    [Theory]
    [InlineData("s3://bucket", "warehouse/orders")]
    [InlineData("file", "${json-unit.regex}.*/spark-warehouse/t2")]
    [InlineData("a:b", "c")]
    public void OtherNamesBecomeValidDistinctIds(string ns, string name)
    {
        var id = LineageIds.For(ns, name);
        Assert.True(Limits.IsValidId(id), id);
        Assert.NotEqual(id, LineageIds.For(ns, name + "x"));
        Assert.Equal(id, LineageIds.For(ns, name));
    }

    [Fact]
    public void ColonsCannotMakeTwoNamesShareAnId() => Assert.NotEqual(LineageIds.For("a:b", "c"), LineageIds.For("a", "b:c"));

    [Fact]
    public void LongNamesAreCutToTheIdLimit()
    {
        var id = LineageIds.For("ns", new string('x', 5000));
        Assert.True(Limits.IsValidId(id));
        Assert.Equal(Limits.MaxIdLength, id.Length);
    }
}
