using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace AiOps.Server.Hosting;

/// <summary>
/// Turns request-binding failures (malformed JSON bodies, wrong types, over-size bodies) into RFC 9457
/// problem details that name the offending field, instead of an empty 400 — and never a 500.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad) return false;
        var json = exception.InnerException as JsonException;
        var field = json?.Path is { Length: > 0 } path ? path.TrimStart('$', '.') : "body";
        if (field.Length == 0) field = "body";
        var detail = json is null ? bad.Message : $"{bad.Message} {json.Message.Split(" Path:")[0]}";
        context.Response.StatusCode = bad.StatusCode;
        var problem = new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [detail] })
        {
            Status = bad.StatusCode,
            Title = "The request could not be read; nothing was changed.",
            Detail = detail,
        };
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }
}
