using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using HeadTracker.Trainer.Synthesis;

namespace HeadTracker.Bench;

/// <summary>
/// headtracker-bench: measurements we steer by, each printed with the machine it ran on. Today:
/// the synthetic-head generator's throughput. (Pipeline latency per stage comes with the runtime.)
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        string verb = args.Length > 0 ? args[0] : "synth";
        try
        {
            return verb switch
            {
                "synth" => Synth(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2000),
                "train" => TrainThroughput.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20),
                "--help" or "-h" => Help(),
                _ => throw new ArgumentException($"unknown benchmark '{verb}' (see --help)"),
            };
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException)
        {
            Console.Error.WriteLine($"headtracker-bench: {e.Message}");
            return 2;
        }
    }

    private static int Help()
    {
        Console.WriteLine("usage: headtracker-bench synth [COUNT]   synthetic 128x128 labelled heads per second, 1 thread and all cores");
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
