using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using HeadTracker.Trainer.Synthesis;

namespace HeadTracker.Bench;

/// <summary>
/// headtracker-bench: measurements we steer by, each printed with the machine it ran on: the
/// runtime's latency per frame and stage beside the floor and peers (the default), the generator's
/// throughput, and training throughput beside PyTorch.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        // Before any convolution: libtorch's oneDNN kernels the trainer trusts (see TorchSettings).
        HeadTracker.Trainer.Training.TorchSettings.LimitOneDnn();

        // No verb, or options first: the latency benchmark.
        if (args.Length == 0 || (args[0].StartsWith("--", StringComparison.Ordinal) && args[0] != "--help"))
        {
            args = ["latency", .. args];
        }

        string verb = args[0];
        try
        {
            return verb switch
            {
                "latency" => Latency.Run(ParseLatency(args[1..]), Console.Out),
                "micro" => Micro.Run(args[1..]),
                "stability" => Stability.Run(ParseStability(args[1..]), Console.Out),
                "synth" => Synth(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000),
                "train" => TrainThroughput.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20),
                "--help" or "-h" => Help(),
                _ => throw new ArgumentException($"unknown benchmark '{verb}' (see --help)"),
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidOperationException)
        {
            Console.Error.WriteLine($"headtracker-bench: {e.Message}");
            return 2;
        }
    }

    private static LatencyOptions ParseLatency(string[] args)
    {
        var o = new LatencyOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {arg} needs a value");
            int Positive()
            {
                string v = Value();
                return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"option {arg} needs a positive whole number, got '{v}'");
            }

            switch (arg)
            {
                case "--model": o = o with { Model = Value() }; break;
                case "--video": o = o with { Video = Value() }; break;
                case "--camera":
                    string c = Value();
                    o = o with { Camera = int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int cam) && cam >= 0 ? cam : throw new ArgumentException($"option --camera needs a camera index, got '{c}'") };
                    break;
                case "--frames": o = o with { Frames = Positive() }; break;
                case "--warmup": o = o with { Warmup = Positive() }; break;
                case "--threads": o = o with { Threads = Positive() }; break;
                case "--size":
                    string size = Value();
                    string[] wh = size.Split('x');
                    if (wh.Length != 2 || !int.TryParse(wh[0], CultureInfo.InvariantCulture, out int w) || !int.TryParse(wh[1], CultureInfo.InvariantCulture, out int h) || w < 32 || h < 32)
                    {
                        throw new ArgumentException($"option --size needs WIDTHxHEIGHT (e.g. 640x480), got '{size}'");
                    }

                    o = o with { Width = w, Height = h };
                    break;
                case "--two-stage": o = o with { TwoStage = true }; break;
                case "--sweep": o = o with { Sweep = true }; break;
                case "--out": o = o with { Out = Value() }; break;
                case "--help" or "-h": Help(); return o with { Help = true };
                default: throw new ArgumentException($"unknown option '{arg}' for latency (see --help)");
            }
        }

        return o;
    }

    private static StabilityOptions ParseStability(string[] args)
    {
        var o = new StabilityOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"option {arg} needs a value");
            double Number(double min, double max)
            {
                string v = Value();
                return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && x >= min && x <= max ? x : throw new ArgumentException($"option {arg} needs a number in [{min}, {max}], got '{v}'");
            }

            switch (arg)
            {
                case "--model": o = o with { Model = Value() }; break;
                case "--photo": o = o with { Photo = Value() }; break;
                case "--sigma": o = o with { Sigma = Number(0, 50) }; break;
                case "--seed": o = o with { Seed = (int)Number(0, int.MaxValue) }; break;
                case "--min-cutoff": o = o with { MinCutoff = Number(0.001, 100) }; break;
                case "--beta": o = o with { Beta = Number(0, 100) }; break;
                case "--dcutoff": o = o with { DerivativeCutoff = Number(0.001, 100) }; break;
                case "--deadband": o = o with { Deadband = Number(0, 0.49) }; break;
                case "--hold-deg": o = o with { HoldDegrees = Number(0, 10) }; break;
                case "--hold-cm": o = o with { HoldCm = Number(0, 10) }; break;
                case "--out": o = o with { Out = Value() }; break;
                case "--help" or "-h": HelpStability(); return o with { Help = true };
                default: throw new ArgumentException($"unknown option '{arg}' for stability (see --help)");
            }
        }

        return o;
    }

    private static void HelpStability()
    {
        Console.WriteLine("usage: headtracker-bench stability [--model FILE] [--photo FILE] [--sigma 2] [--seed 15] [--min-cutoff HZ] [--beta B]");
        Console.WriteLine("                                   [--dcutoff HZ] [--hold-deg DEG] [--hold-cm CM] [--deadband SHARE] [--out out/bench]");
        Console.WriteLine("       a real photo through the whole two-stage tracker at 30 frames/s: byte-identical frames (raw change),");
        Console.WriteLine("       a still head under camera noise (raw and filtered jitter, deg and px), and the photo rolling,");
        Console.WriteLine("       zooming and drifting along a known path (roll error, yaw/pitch wander, centre error, lag);");
        Console.WriteLine("       filter, hold bands and crop dead band default to HeadTrackerOptions'; stability.json and each phase's");
        Console.WriteLine("       per-frame record (stability-identical/-noisy/-moving.jsonl) in --out");
    }

    private static int Help()
    {
        Console.WriteLine("usage: headtracker-bench [latency] [--model FILE] [--video FILE | --camera N] [--frames 500] [--warmup 50] [--threads 1]");
        Console.WriteLine("                         [--size 640x480] [--two-stage] [--sweep] [--out out/bench]");
        Console.WriteLine("                         the runtime's pipeline per frame and stage beside a bare InferenceSession.Run,");
        Console.WriteLine("                         OpenCV dnn and the BlazeFace detector; bench.json and latency.png in --out;");
        Console.WriteLine("                         --sweep: every model in models/ x 320x240, 640x480, 1280x720 x 1 and 2 threads");
        Console.WriteLine("       headtracker-bench stability [--help]   still, noisy and moving real face through the tracker: jitter, lag, error");
        Console.WriteLine("       headtracker-bench micro [BenchmarkDotNet options]   micro-benchmarks of the per-frame functions");
        Console.WriteLine("       headtracker-bench synth [COUNT]   synthetic 128x128 labelled heads per second, 1 thread and all cores");
        Console.WriteLine("       headtracker-bench train [STEPS]   training images per second of the default architecture at batch 32,");
        Console.WriteLine("                                         TorchSharp beside Debian's PyTorch (python3-torch) on the same threads");
        return 0;
    }

    /// <summary>Images per second of the generator (render, degrade, JPEG encode and decode,
    /// labels; no disk), after a warm-up, on one thread and on every core.</summary>
    private static int Synth(int count)
    {
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        HeadSynthesizer synth = SynthCommand.Create(new SynthOptions { Size = 128, Seed = 1 }, new SynthCommand.Sources(), Console.Out);
        for (int i = 0; i < 50; i++)
        {
            synth.Generate(i).Dispose();
        }

        foreach (int threads in new[] { 1, Environment.ProcessorCount })
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => synth.Generate(1000 + i).Dispose());
            double rate = count / clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "synth 128x128: {0,7:F0} images/s on {1} thread(s) ({2} images, {3:F2} s)", rate, threads, count, clock.Elapsed.TotalSeconds));
        }

        return 0;
    }
}
