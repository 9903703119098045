using System.Net;
using System.Net.Sockets;
using AiOps.Grains.Alerts;
using Microsoft.Extensions.Options;

namespace AiOps.Server.Alerting;

/// <summary>
/// Where webhooks may go: public addresses, plus internal networks an administrator allowed in configuration
/// (<c>AiOps:Alerts:Webhooks:AllowedInternalNetworks</c>). Checked when a subscription is created (the URL's host,
/// resolved) and again for every connection a delivery opens (the addresses actually dialled), so a name that
/// later resolves to an internal address, or a redirect, cannot reach one.
/// </summary>
public sealed class WebhookTargetPolicy
{
    // Not reachable by webhooks unless allowed: IANA special-purpose ranges that are not the public internet.
    private static readonly IPNetwork[] Internal =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"), IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"), IPNetwork.Parse("64:ff9b::/96"), IPNetwork.Parse("2002::/16"),
    ];

    private readonly IPNetwork[] _allowed;

    public WebhookTargetPolicy(IEnumerable<string> allowedInternalNetworks)
    {
        _allowed = allowedInternalNetworks
            .Where(n => !string.IsNullOrWhiteSpace(n))
            .Select(n => IPNetwork.TryParse(n.Trim(), out var net)
                ? net
                : throw new OptionsValidationException("AiOps:Alerts:Webhooks:AllowedInternalNetworks", typeof(WebhookOptions), [$"'{n}' is not a CIDR network such as 10.0.0.0/8"]))
            .ToArray();
    }

    /// <summary>Whether a connection to this address is allowed.</summary>
    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (_allowed.Any(n => n.Contains(address))) return true;
        return !Internal.Any(n => n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address));
    }

    /// <summary>Null when the URL's host may receive webhooks; otherwise why not.</summary>
    public async Task<string?> CheckAsync(Uri url, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.DnsSafeHost, out var literal)) addresses = [literal];
        else
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                addresses = await Dns.GetHostAddressesAsync(url.DnsSafeHost, timeout.Token);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                return $"url's host '{url.Host}' could not be resolved.";
            }
            if (addresses.Length == 0) return $"url's host '{url.Host}' could not be resolved.";
        }
        var refused = addresses.FirstOrDefault(a => !IsAllowed(a));
        return refused is null
            ? null
            : $"url points to an internal address ({refused}): loopback, link-local and private networks are refused unless an administrator allows them (AiOps:Alerts:Webhooks:AllowedInternalNetworks).";
    }

    /// <summary>
    /// Opens the connection for a delivery: resolves the host and dials only allowed addresses; if there is none,
    /// the delivery fails without any packet sent to the target.
    /// </summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
            throw new HttpRequestException(HttpRequestError.ConnectionError, $"webhook target {host} refused: it resolves only to internal addresses ({string.Join(", ", addresses.Select(a => a.ToString()))}).");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
