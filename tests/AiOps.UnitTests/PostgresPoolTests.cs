using AiOps.Server.Hosting;
using Npgsql;

namespace AiOps.UnitTests;

public sealed class PostgresPoolTests
{
    [Theory]
    [InlineData("Host=db;Username=aiops;Database=aiops", 16)]
    [InlineData("Host=db;Username=aiops;Database=aiops;Maximum Pool Size=50", 50)]
    public void ASilosPoolIsBoundUnlessTheConnectionStringSaysOtherwise(string connectionString, int expected)
    {
        var options = new AiOpsOptions { PostgresConnectionString = connectionString };
        var pooled = new NpgsqlConnectionStringBuilder(options.PooledPostgresConnectionString(16, "aiops-silo"));
        Assert.Equal(expected, pooled.MaxPoolSize);
        Assert.Equal("aiops-silo", pooled.ApplicationName);
    }
}
