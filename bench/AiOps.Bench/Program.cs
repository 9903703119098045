using AiOps.Bench;

// Benchmarks of the platform. Each prints its figures and, where one exists, a baseline measured in the
// same run (a ratio survives a noisy machine).
//   dotnet run -c Release --project bench/AiOps.Bench -- ingest [--events 2000000] [--entities 1000] [--batch 1000] [--clients 32]
//   dotnet run -c Release --project bench/AiOps.Bench -- detector-ab --baseline DIR [--rounds 5] [--discard 1] [--no-detection-arm] [--baseline-first]
//   dotnet run -c Release --project bench/AiOps.Bench -- idle [--baseline DIR] [--settle 20] [--seconds 30] [--entities 1000]
//   dotnet run -c Release --project bench/AiOps.Bench -- state [--entities 10000]
//   dotnet run -c Release --project bench/AiOps.Bench -- coldstart
//   dotnet run -c Release --project bench/AiOps.Bench -- crash
//   dotnet run -c Release --project bench/AiOps.Bench -- alert-latency [--max-rate 300000] [--probes 120] [--shares 0,10,50]
//   dotnet run -c Release --project bench/AiOps.Bench -- otlp [--events 1000000] [--points-per-resource 10] [--rounds 3]
//   dotnet run -c Release --project bench/AiOps.Bench -- cluster [--events 1000000] [--silos 1,3] [--soak-minutes 10 --soak-share 50]
//   dotnet run -c Release --project bench/AiOps.Bench -- focus [--rows 5000000] [--baseline-rows 500000] [--parquet] [--row-group 100000]
//   dotnet run -c Release --project bench/AiOps.Bench -- lineage [--events 200000] [--jobs 1000] [--batch 100] [--native-events 1000000] [--rounds 3]
//   dotnet run -c Release --project bench/AiOps.Bench -- lineage-schema [--events 20000] [--rounds 3]
var command = args.FirstOrDefault() ?? "help";
var options = BenchArgs.Parse(args.Skip(1).ToArray());
return command switch
{
    "ingest" => await IngestBench.RunAsync(options),
    "detector-ab" => await DetectorAbBench.RunAsync(options),
    "idle" => await IdleBench.RunAsync(options),
    "state" => await StateBench.RunAsync(options),
    "coldstart" => await ColdStartBench.RunAsync(options),
    "crash" => await CrashBench.RunAsync(options),
    "alert-latency" => await AlertLatencyBench.RunAsync(options),
    "cluster" => await ClusterBench.RunAsync(options),
    "focus" => await FocusBench.RunAsync(options),
    "otlp" => await OtlpBench.RunAsync(options),
    "lineage" => await LineageBench.RunAsync(options),
    "lineage-schema" => await LineageSchemaBench.RunAsync(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: AiOps.Bench ingest|detector-ab|idle|state|coldstart|crash|alert-latency|cluster|focus|otlp|lineage|lineage-schema [--option value ...]");
    return 2;
}
