using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.CommandLine;
using System.Threading.Tasks;
using HeadTracking.Trainer.Synthesis;
using static HeadTracking.OptionValues;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Bench;

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
        HeadTracking.Trainer.Training.TorchSettings.LimitOneDnn();
        try
        {
            ParseResult parsed = Commands().Parse(args);
            if (parsed.Errors.Count > 0)
            {
                Console.Error.WriteLine($"headtracker-bench: {parsed.Errors[0].Message} (see --help)");
                return 2;
            }

            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or InvalidOperationException)
        {
            Console.Error.WriteLine($"headtracker-bench: {e.Message}");
            return 2;
        }
    }

    /// <summary>The model a benchmark runs: <paramref name="given"/> (--model), or the shipped default.</summary>
    /// <exception cref="FileNotFoundException">None given and the shipped model is not there.</exception>
    internal static string ModelOrShipped(string? given) =>
        given ?? ExternalData.FindShipped(Path.Combine("models", "headtracker-default.onnx"))
        ?? throw new FileNotFoundException("no model: models/headtracker-default.onnx is not there; pass --model FILE.onnx");

    /// <summary>The command tree; every command's --help lists its options. No command (options
    /// only, or nothing) is the latency benchmark.</summary>
    internal static RootCommand Commands()
    {
        var root = new RootCommand(
            "headtracker-bench: measurements we steer by, each printed with the machine it ran on. " +
            "With no command: the latency benchmark (headtracker-bench latency --help).");
        AddLatency(root);
        var latency = new Command("latency",
            "The runtime's pipeline per frame and stage beside a bare InferenceSession.Run, OpenCV dnn and the BlazeFace detector, " +
            "all on the same frames; bench.json and latency.png in --out.");
        AddLatency(latency);
        root.Subcommands.Add(latency);
        root.Subcommands.Add(StabilityCommand());
        root.Subcommands.Add(AccuracyCommand());
        root.Subcommands.Add(GridCommand());

        var micro = new Command("micro", "BenchmarkDotNet micro-benchmarks of the per-frame functions; other arguments go to BenchmarkDotNet (e.g. --filter '*Letterbox*').")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        micro.SetAction(r => Micro.Run([.. r.UnmatchedTokens]));
        root.Subcommands.Add(micro);

        var count = new Argument<int>("COUNT") { Description = "Images to generate per measurement.", DefaultValueFactory = _ => 2000 };
        count.Validators.Add(r => Positive(r, "COUNT"));
        var synth = new Command("synth", "Synthetic 128x128 labelled heads per second (render, degrade, JPEG, labels; no disk), on 1 thread and on every core.") { count };
        synth.SetAction(r => Synth(r.GetValue(count)));
        root.Subcommands.Add(synth);

        var steps = new Argument<int>("STEPS") { Description = "Training steps per measurement.", DefaultValueFactory = _ => 20 };
        steps.Validators.Add(r => Positive(r, "STEPS"));
        var train = new Command("train", "Training images per second of the default architecture at batch 32, TorchSharp beside Debian's PyTorch (python3-torch) on the same threads.") { steps };
        train.SetAction(r => TrainThroughput.Run(r.GetValue(steps)));
        root.Subcommands.Add(train);
        return root;
    }

    private static void AddLatency(Command command)
    {
        var model = Text("--model", "The HeadTracker ONNX model (default: models/headtracker-default.onnx).");
        var video = Text("--video", "Frames from this video (default: the demo's sample clip).");
        var camera = new Option<int?>("--camera") { Description = "Frames from webcam N instead of a video." };
        camera.Validators.Add(r =>
        {
            if (TryValue(r, "a camera index", out int? index) && index is < 0)
            {
                r.AddError("option --camera needs a camera index (0 or more)");
            }
        });
        var frames = Int("--frames", "Frames measured.", 500, 1);
        var warmup = Int("--warmup", "Frames run before measuring.", 50, 1);
        var threads = Int("--threads", "ONNX Runtime intra-op threads.", 1, 1, 256);
        var size = new Option<string>("--size") { Description = "Frame size WIDTHxHEIGHT the frames are scaled to.", DefaultValueFactory = _ => "640x480" };
        size.Validators.Add(r =>
        {
            if (ParseSize(r.GetValueOrDefault<string>()) == null)
            {
                r.AddError($"option --size needs WIDTHxHEIGHT of at least 32x32 (e.g. 640x480), got '{r.GetValueOrDefault<string>()}'");
            }
        });
        var twoStage = Flag("--two-stage", "BlazeFace finds the head, the model sees a crop (as HeadTrackerOptions.DetectorPath).");
        var sweep = Flag("--sweep", "Every model in models/ x 320x240, 640x480, 1280x720 x 1 and 2 threads.");
        var output = new Option<string>("--out") { Description = "Where bench.json and latency.png go.", DefaultValueFactory = _ => Path.Combine("out", "bench") };
        foreach (Option o in new Option[] { model, video, camera, frames, warmup, threads, size, twoStage, sweep, output })
        {
            command.Options.Add(o);
        }

        command.SetAction(r =>
        {
            (int width, int height) = ParseSize(r.GetValue(size))!.Value;
            return Latency.Run(new LatencyOptions
            {
                Model = r.GetValue(model),
                Video = r.GetValue(video),
                Camera = r.GetValue(camera),
                Frames = r.GetValue(frames),
                Warmup = r.GetValue(warmup),
                Threads = r.GetValue(threads),
                Width = width,
                Height = height,
                TwoStage = r.GetValue(twoStage),
                Sweep = r.GetValue(sweep),
                Out = r.GetValue(output)!,
            }, Console.Out);
        });
    }

    private static Command StabilityCommand()
    {
        var model = Text("--model", "The HeadTracker ONNX model (default: models/headtracker-default.onnx).");
        var photo = Text("--photo", "The real photo moved along the path (default: the fetched faces/sample6.jpg).");
        var sigma = Number("--sigma", "Camera noise: Gaussian sigma in grey levels.", 2, 0, 50);
        var seed = Int("--seed", "Seed of the noise (the first; further draws take the next seeds).", 15, 0);
        var draws = Int("--draws", "Noise draws of the still phase, one seed each: the figures are their mean and worst (one draw swings the filtered jitter by a factor of 3).", 4, 1, 100);
        var minCutoff = Optional("--min-cutoff", "One Euro minimum cutoff, Hz (default: HeadTrackerOptions').", 0.001, 100);
        var beta = Optional("--beta", "One Euro speed coefficient (default: HeadTrackerOptions').", 0, 100);
        var dcutoff = Optional("--dcutoff", "One Euro derivative cutoff, Hz (default: HeadTrackerOptions').", 0.001, 100);
        var deadband = Optional("--deadband", "The crop's dead band, a share of its side (default: HeadTrackerOptions').", 0, 0.49);
        var holdDeg = Optional("--hold-deg", "Rotation hold band, degrees (default: HeadTrackerOptions').", 0, 10);
        var holdCm = Optional("--hold-cm", "Position hold band, cm (default: HeadTrackerOptions').", 0, 10);
        var output = new Option<string>("--out") { Description = "Where stability.json and each phase's per-frame record (stability-identical/-noisy/-moving.jsonl) go.", DefaultValueFactory = _ => Path.Combine("out", "bench") };
        var c = new Command("stability",
            "A real photo through the whole two-stage tracker at 30 frames/s: byte-identical frames (raw change), a still head under camera " +
            "noise (raw and filtered jitter, deg and px), and the photo rolling, zooming and drifting along a known path (roll error, yaw/pitch " +
            "wander, centre error, lag).")
        {
            model, photo, sigma, seed, draws, minCutoff, beta, dcutoff, deadband, holdDeg, holdCm, output,
        };
        c.SetAction(r => Stability.Run(new StabilityOptions
        {
            Model = r.GetValue(model),
            Photo = r.GetValue(photo),
            Sigma = r.GetValue(sigma),
            Seed = r.GetValue(seed),
            Draws = r.GetValue(draws),
            MinCutoff = r.GetValue(minCutoff),
            Beta = r.GetValue(beta),
            DerivativeCutoff = r.GetValue(dcutoff),
            Deadband = r.GetValue(deadband),
            HoldDegrees = r.GetValue(holdDeg),
            HoldCm = r.GetValue(holdCm),
            Out = r.GetValue(output)!,
        }, Console.Out));
        return c;
    }

    private static Command AccuracyCommand()
    {
        var model = Text("--model", "The HeadTracker ONNX model (default: models/headtracker-default.onnx).");
        var people = Int("--people", "Held-out synthetic people, one clip each per range (at most the held-out identities there are).", 4, 1, 100);
        var frames = Int("--frames", "Frames per clip, at 30 per second.", 300, 10, 100_000);
        var size = Int("--size", "Frame size in pixels (square).", 480, 64, 2048);
        var face = Number("--face", "Average face width as a fraction of the frame.", 0.3, 0.05, 1);
        var fov = Number("--fov", "The camera's horizontal field of view, degrees (the footage's and the tracker's).", 60, 20, 120);
        var seed = Int("--seed", "Seed of the footage (background, light).", 1, 0);
        var ranges = new Option<string>("--ranges")
        {
            Description = "How far the heads turn, nod and tilt either way, degrees: YAW/PITCH/ROLL, comma-separated, one set of clips each (yaw up to 90, pitch and roll up to 60).",
            DefaultValueFactory = _ => "35/15/12,60/30/25",
        };
        ranges.Validators.Add(r =>
        {
            if (AccuracyOptions.ParseRanges(r.GetValueOrDefault<string>()) == null)
            {
                r.AddError($"option --ranges needs YAW/PITCH/ROLL in degrees, comma-separated (e.g. 35/15/12,60/30/25; yaw up to 90, pitch and roll up to 60), got '{r.GetValueOrDefault<string>()}'");
            }
        });
        var output = new Option<string>("--out") { Description = "Where accuracy.json and each clip's per-frame record (accuracy-YAW-PITCH-ROLL-N.jsonl) go.", DefaultValueFactory = _ => Path.Combine("out", "bench") };
        var c = new Command("accuracy",
            "Pose and head-centre error against the truth through the whole two-stage tracker at 30 frames/s, on synthetic footage of people " +
            "the model never trained on turning, nodding and tilting within each range; beside always answering the mean pose.")
        {
            model, people, frames, size, face, fov, seed, ranges, output,
        };
        c.SetAction(r => Accuracy.Run(new AccuracyOptions
        {
            Model = r.GetValue(model),
            People = r.GetValue(people),
            Frames = r.GetValue(frames),
            Size = r.GetValue(size),
            Face = r.GetValue(face),
            Fov = r.GetValue(fov),
            Seed = r.GetValue(seed),
            Ranges = AccuracyOptions.ParseRanges(r.GetValue(ranges))!,
            Out = r.GetValue(output)!,
        }, Console.Out));
        return c;
    }

    private static Command GridCommand()
    {
        var model = Text("--model", "The HeadTracker ONNX model, with a pose head (default: models/headtracker-default.onnx).");
        var people = Int("--people", "Held-out synthetic people, each rendered at every pose of the grid (at most the held-out identities there are).", 4, 1, 100);
        var yaw = Number("--yaw", "How far the grid turns either way, degrees, in steps of 15.", 75, 0, 90);
        var pitch = Number("--pitch", "How far it nods either way, degrees, in steps of 10.", 20, 0, 60);
        var roll = Number("--roll", "How far it tilts either way, degrees, in steps of 10.", 30, 0, 60);
        var face = Number("--face", "Face width as a fraction of the image.", 0.45, 0.1, 0.9);
        var fov = Number("--fov", "The camera's horizontal field of view, degrees.", 60, 20, 120);
        var seed = Int("--seed", "Seed of the renders (background, light).", 1, 0);
        var output = new Option<string>("--out") { Description = "Where grid.json and grid.jsonl (every image's truth and reading) go.", DefaultValueFactory = _ => Path.Combine("out", "bench") };
        var c = new Command("grid",
            "How the model reads each pose where the face is plain to see: held-out synthetic people rendered whole, centred and unoccluded at every " +
            "yaw, pitch and roll of a grid, one still each as eval runs it; errors by yaw, and how much of a change of pitch and roll the model reads.")
        {
            model, people, yaw, pitch, roll, face, fov, seed, output,
        };
        c.SetAction(r => PoseGrid.Run(new PoseGridOptions
        {
            Model = r.GetValue(model),
            People = r.GetValue(people),
            Yaw = r.GetValue(yaw),
            Pitch = r.GetValue(pitch),
            Roll = r.GetValue(roll),
            Face = r.GetValue(face),
            Fov = r.GetValue(fov),
            Seed = r.GetValue(seed),
            Out = r.GetValue(output)!,
        }, Console.Out));
        return c;
    }

    /// <summary>A number in [min, max], or null when not given (the runtime's default).</summary>
    private static Option<double?> Optional(string name, string description, double min, double max)
    {
        var option = new Option<double?>(name) { Description = description };
        option.Validators.Add(r =>
        {
            if (TryValue(r, "a number", out double? value) && value is { } v && (!double.IsFinite(v) || v < min || v > max))
            {
                r.AddError($"option {name} needs a number in [{min}, {max}], got {v}");
            }
        });
        return option;
    }

    private static void Positive(System.CommandLine.Parsing.ArgumentResult r, string name)
    {
        if (r.GetValueOrDefault<int>() < 1)
        {
            r.AddError($"{name} must be a positive whole number");
        }
    }

    private static (int Width, int Height)? ParseSize(string? size)
    {
        string[] wh = (size ?? "").Split('x');
        return wh.Length == 2 && int.TryParse(wh[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int w)
            && int.TryParse(wh[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int h) && w >= 32 && h >= 32
            ? (w, h) : null;
    }

    /// <summary>Images per second of the generator (render, degrade, JPEG encode and decode,
    /// labels; no disk), after a warm-up, on one thread and on every core.</summary>
    private static int Synth(int count)
    {
        Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        HeadSynthesizer synth = SynthWriter.Create(new SynthOptions { Size = 128, Seed = 1 }, new SynthWriter.Sources(), Console.Out);
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
