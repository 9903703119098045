using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AiOps.Abstractions;
using AiOps.Abstractions.Alerts;

namespace AiOps.Grains.Alerts;

/// <summary>Webhook body (JSON, built once per delivery and signed as is) and its HMAC-SHA256 signature.</summary>
public static class WebhookPayload
{
    public const string SignatureHeader = "X-AiOps-Signature";
    public const string DeliveryHeader = "X-AiOps-Delivery";
    public const string TimestampHeader = "X-AiOps-Timestamp";
    public const string EventHeader = "X-AiOps-Event";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new EntityKindJsonConverter(), new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string EventName(AlertEventType type) => "alert." + JsonNamingPolicy.CamelCase.ConvertName(type.ToString());

    public static string Build(string deliveryId, string subscriptionId, AlertHistoryEntry entry, AlertHeader alert) =>
        JsonSerializer.Serialize(new Body(deliveryId, subscriptionId, EventName(entry.Type), entry.EventId, entry.At, entry.Actor, entry.Text, alert.Test, alert), Json);

    /// <summary><c>sha256=</c> + lower-case hex of HMAC-SHA256(key = UTF-8 bytes of the secret, message = the raw body bytes).</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static string NewSecret() => "whsec_" + Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record Body(
        string DeliveryId,
        string SubscriptionId,
        string Event,
        string EventId,
        DateTime OccurredAt,
        string Actor,
        string? Text,
        bool Test,
        AlertHeader Alert);
}
