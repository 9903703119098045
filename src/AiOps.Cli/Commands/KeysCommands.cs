using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AiOps.Cli.Commands;

/// <summary>`aiops keys create|list|revoke`: key management through a running server's API, with an admin key.</summary>
public static class KeysCommands
{
    public static Command Create()
    {
        var name = new Option<string>("--name") { Description = "Key name", Required = true };
        var role = new Option<string>("--role") { Description = "Role: reader, operator, admin or ingest", Required = true };
        var expires = new Option<string?>("--expires") { Description = "Expiry (ISO 8601, e.g. 2027-01-01T00:00:00Z)", HelpName = "TIME" };
        var command = new Command("create", "Create an API key (reader, operator, admin, ingest); prints it once") { name, role, expires };
        return WithServer(command,
            (http, r, ct) => http.PostAsJsonAsync("/api/v1/keys", new { name = r.GetValue(name), role = r.GetValue(role), expiresAt = r.GetValue(expires) }, ct),
            body =>
            {
                var node = JsonNode.Parse(body)!;
                Console.WriteLine($"created {node["info"]!["role"]} key '{node["info"]!["name"]}' ({node["info"]!["keyId"]}). Store it now; it is not shown again:");
                Console.WriteLine(node["key"]!.GetValue<string>());
            });
    }

    public static Command List() =>
        WithServer(new Command("list", "List API keys (ids, names, roles, revocation)"), (http, _, ct) => http.GetAsync("/api/v1/keys", ct), PrintJson);

    public static Command Revoke()
    {
        var id = new Option<string>("--id") { Description = "Key id", Required = true, HelpName = "KEY_ID" };
        var command = new Command("revoke", "Revoke an API key by id") { id };
        return WithServer(command, (http, r, ct) => http.DeleteAsync($"/api/v1/keys/{Uri.EscapeDataString(r.GetValue(id)!)}", ct), PrintJson);
    }

    private static void PrintJson(string body) =>
        Console.WriteLine(JsonNode.Parse(body)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Adds the server options (--url, --key, --key-file) and the action that calls the server.</summary>
    private static Command WithServer(Command command, Func<HttpClient, ParseResult, CancellationToken, Task<HttpResponseMessage>> send, Action<string> print)
    {
        var url = new Option<string?>("--url") { Description = "Server URL (default: AIOPS_URL or http://localhost:5080)", HelpName = "URL" };
        var key = new Option<string?>("--key") { Description = "Admin API key (default: AIOPS_KEY)", HelpName = "ADMIN_KEY" };
        var keyFile = new Option<string?>("--key-file") { Description = "File holding the admin key (default data/bootstrap-admin.key)", HelpName = "PATH" };
        command.Add(url);
        command.Add(key);
        command.Add(keyFile);
        command.SetUsageAction(async (r, ct) =>
        {
            var baseUrl = r.GetValue(url) ?? Environment.GetEnvironmentVariable("AIOPS_URL") ?? "http://localhost:5080";
            var apiKey = r.GetValue(key) ?? Environment.GetEnvironmentVariable("AIOPS_KEY");
            if (apiKey is null)
            {
                var file = r.GetValue(keyFile) ?? Path.Combine("data", "bootstrap-admin.key");
                if (!File.Exists(file)) throw new UsageException($"no admin key: pass --key, --key-file or set AIOPS_KEY ({file} does not exist)");
                apiKey = (await File.ReadAllTextAsync(file, ct)).Trim();
            }
            using var http = new HttpClient { BaseAddress = new Uri(baseUrl) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            var response = await send(http, r, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            if (!response.IsSuccessStatusCode)
            {
                Console.Error.WriteLine($"error: {(int)response.StatusCode} {body}");
                return 1;
            }
            print(body);
            return 0;
        });
        return command;
    }
}
