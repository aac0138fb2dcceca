using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracker.Trainer.Cli;
using HeadTracker.Trainer.Data;
using HeadTracker.Trainer.Data.Loaders;
using HeadTracker.Trainer.Models;
using HeadTracker.Trainer.Models.Backbones;
using HeadTracker.Trainer.Onnx;
using HeadTracker.Trainer.Synthesis;
using HeadTracker.Trainer.Training;
using OpenCvSharp;

namespace HeadTracker.Trainer;

internal static class Program
{
    private const string Usage = """
        headtracker-train: builds, fine-tunes and exports head-tracking models.

        Commands:
          init     --backbone NAME --heads LIST --out DIR [--size N] [--weights FILE.onnx]
                   [--classes A,B,..] [--multi-label] [--name NAME] [--seed N]
                   A new model as a checkpoint folder. Backbones: blazeface, resnet18, resnet34,
                   mobilenetv2. Heads: center, keypoints, box, pose, class, mask. --weights loads
                   pretrained backbone weights: MediaPipe's BlazeFace ONNX for blazeface, or an
                   ONNX file whose initializers carry torchvision's names for the others.
          export   --checkpoint DIR --out FILE.onnx [--fold-bn]
                   Writes the model as ONNX (opset 17) with its manifest.
          data     --format FORMAT --path PATH [--images DIR] [--strict] [--preview FILE.png]
                   Loads a data set and reports what it holds and what it skipped. Formats:
                   jsonl (labels.jsonl), folder (a folder per class), csv (fname,labels,is_valid;
                   --images: the image folder), biwi, points (image,NAME_x,NAME_y..; --images),
                   boxes (image_id,x_min,x_max,y_min,y_max,class_name,folder; --images: the root),
                   segmentation (images/, labels/NAME_P.png, codes.txt), idx (PATH: the images
                   file; --labels: the labels file; Fashion-MNIST class names).
          inspect  FILE.onnx [--nodes]
                   Prints inputs, outputs, manifest, op counts and parameter count.
          synth    --out DIR --count N [--size S] [--seed K] [--threads T] [--preview FILE.png]
                   [--faces DIR] [--backgrounds DIR] [--min-face F] [--max-face F] [--max-shift F]
                   [--no-occlusion]
                   Renders labelled synthetic heads: NNNNNN.jpg, NNNNNN_mask.png, labels.jsonl.
                   --preview also draws the first samples with their labels into a contact sheet.
          label    --input IMAGES_DIR_OR_VIDEO --out DIR [--min-score P] [--every N] [--max-frames N]
                   [--strict] [--preview FILE.png]
                   Teacher labels: BlazeFace boxes, 6 keypoints and scores for real images or video
                   frames, in labels.jsonl. Unreadable images are skipped and reported (--strict:
                   stop at the first).

          train    --data DIR[,DIR..] --out RUN_DIR [--arch blazeface] [--heads center,keypoints,..]
                   [--epochs N] [--freeze-epochs N] [--lr X] [--lr-mult M] [--batch B] [--size S]
                   [--weights FILE|none]
                   [--loss-weights KIND=W,..] [--patience N] [--seed K] [--threads T] [--valid-groups A,B]
                   [--export FILE.onnx] [--resume] [--no-augment] [--max-batches N]
                   Fine-tunes (fastai's fine_tune: frozen epochs, then all layers with discriminative
                   rates, one-cycle), checkpoints every epoch, writes metrics.jsonl, losses.png,
                   results.png and the ONNX model. --resume continues a stopped run.
          lr-find  (the train options) [--plot FILE.png]
                   Learning-rate finder: exponential sweep, smoothed loss, suggested rate, plot.
          eval     --model FILE.onnx --data DIR[,DIR..] [--split all|train|valid] [--json FILE]
                   Metrics of an exported model in ONNX Runtime, inputs prepared from its manifest.

        Any command takes --recipe FILE.json, a JSON object of its options ("epochs": 5,
        "heads": ["center", "box"]); options on the command line win. Add --verbose for stack
        traces of unexpected errors.
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        var cli = CliArgs.WithRecipe(args.Skip(1));
        bool verbose = cli.Flag("verbose");
        try
        {
            return args[0] switch
            {
                "init" => Init(cli),
                "export" => Export(cli),
                "inspect" => Inspect(cli),
                "synth" => Synth(cli),
                "label" => Label(cli),
                "data" => Data(cli),
                "train" => Train(cli),
                "lr-find" => LrFind(cli),
                "eval" => Eval(cli),
                _ => throw new ArgumentException($"unknown command '{args[0]}' (see --help)"),
            };
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidDataException or NotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"headtracker-train: {e.Message}");
            return 2;
        }
        catch (Exception e) when (!verbose)
        {
            Console.Error.WriteLine($"headtracker-train: unexpected {e.GetType().Name}: {e.Message} (run with --verbose for details)");
            return 1;
        }
    }

    private static int Init(CliArgs cli)
    {
        string backbone = cli.Required("backbone");
        string[] heads = CliArgs.List(cli.Required("heads"));
        string output = cli.Required("out");
        int size = cli.Int("size", 0, 0, 1024);
        string? weights = cli.Option("weights");
        string[]? classes = cli.Option("classes") is { } c ? CliArgs.List(c) : null;
        bool multiLabel = cli.Flag("multi-label");
        string name = cli.Option("name") ?? "headtracker";
        int seed = cli.Int("seed", 0);
        cli.EnsureAllUsed();

        if (!BackboneRegistry.Names.Contains(backbone))
        {
            throw new ArgumentException($"option --backbone: '{backbone}' is not one of: {string.Join(", ", BackboneRegistry.Names)}");
        }

        var config = new ModelConfig
        {
            Name = name,
            Backbone = backbone,
            InputSize = size,
            Heads = [.. heads.Select(h => new HeadConfig { Kind = h, ClassNames = h == "class" ? classes : null, MultiLabel = multiLabel })],
        };
        config.Validate("options --heads/--classes");
        TorchSharp.torch.manual_seed(seed);
        using var net = new MultiHeadNet(config);
        if (weights != null)
        {
            ImportReport report = PretrainedBackbone.Load(net, weights);
            Console.WriteLine($"Backbone weights from {weights}: {report}");
        }

        Checkpoint.Save(net, output);
        long parameters = net.parameters().Sum(p => p.numel());
        Console.WriteLine($"Wrote {Path.GetFullPath(output)}: {config.Backbone} {net.Backbone.Preprocessing.Height}x{net.Backbone.Preprocessing.Width}, heads {string.Join(", ", heads)}, {parameters:N0} parameters");
        return 0;
    }

    private static int Export(CliArgs cli)
    {
        string checkpoint = cli.Required("checkpoint");
        string output = cli.Required("out");
        bool foldBn = cli.Flag("fold-bn");
        cli.EnsureAllUsed();

        using MultiHeadNet net = Checkpoint.Load(checkpoint);
        net.eval();
        OnnxFile.Save(OnnxExporter.Build(net, new OnnxExportOptions { FoldBatchNorm = foldBn }), output);
        Console.WriteLine($"Wrote {Path.GetFullPath(output)} ({new FileInfo(output).Length:N0} bytes{(foldBn ? ", BatchNorm folded" : "")})");
        return 0;
    }

    private static int Synth(CliArgs cli)
    {
        string output = cli.Required("out");
        int count = cli.Int("count", 1000, 1, 10_000_000);
        var options = new SynthOptions
        {
            Size = cli.Int("size", 128, 32, 1024),
            Seed = cli.Int("seed", 0),
            MinFaceFraction = Number(cli, "min-face", 0.2),
            MaxFaceFraction = Number(cli, "max-face", 0.6),
            MaxShift = Number(cli, "max-shift", 0.5),
            OcclusionProbability = cli.Flag("no-occlusion") ? 0 : 0.15,
        };
        if (options.MaxFaceFraction < options.MinFaceFraction || options.MaxFaceFraction > 1.5 || options.MaxShift > 0.5)
        {
            throw new ArgumentException("options --min-face/--max-face/--max-shift: need min-face <= max-face <= 1.5 and max-shift <= 0.5");
        }

        int threads = cli.Int("threads", Environment.ProcessorCount, 1, 256);
        string? preview = cli.Option("preview");
        var sources = new SynthCommand.Sources(cli.Option("faces"), cli.Option("backgrounds"));
        cli.EnsureAllUsed();

        HeadSynthesizer synth = SynthCommand.Create(options, sources, Console.Out);
        SynthCommand.Write(synth, output, count, threads, Console.Out);
        if (preview != null)
        {
            var samples = Enumerable.Range(0, Math.Min(count, 24)).Select(i => synth.Generate(i)).ToList();
            try
            {
                ContactSheet.Write(preview, [.. samples.Select(s => (s.Image, (Mat?)s.Mask, s.Label))]);
            }
            finally
            {
                samples.ForEach(s => s.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
    }

    private static int Label(CliArgs cli)
    {
        string input = cli.Required("input");
        string output = cli.Required("out");
        float minScore = cli.Option("min-score") is { } m
            ? float.TryParse(m, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float v) && v is >= 0 and <= 1
                ? v
                : throw new ArgumentException($"option --min-score needs a number in [0, 1], got '{m}'")
            : 0.5f;
        int every = cli.Int("every", 1, 1);
        int maxFrames = cli.Int("max-frames", int.MaxValue, 1);
        bool strict = cli.Flag("strict");
        string? preview = cli.Option("preview");
        string? detectorPath = cli.Option("detector");
        cli.EnsureAllUsed();

        using var detector = new Runtime.Detection.BlazeFaceDetector(detectorPath ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")), minScore: minScore);
        var skipped = new SkipReport();
        (int images, int faces) = new TeacherLabeler(detector, minScore).Run(input, output, skipped, strict, every, maxFrames);
        Console.WriteLine($"Labelled {images} images: {faces} faces into {Path.GetFullPath(output)}{Path.DirectorySeparatorChar}{LabelsFile.FileName}; {skipped}");
        if (preview != null)
        {
            var labels = LabelsFile.Read(Path.Combine(output, LabelsFile.FileName), new SkipReport()).Take(24).ToList();
            var pictures = labels.Select(l => Cv2.ImRead(Path.Combine(output, l.Image))).ToList();
            try
            {
                ContactSheet.Write(preview, [.. labels.Select((l, i) => (pictures[i], (Mat?)null, l))]);
            }
            finally
            {
                pictures.ForEach(p => p.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
    }

    private static readonly string[] s_fashionMnist =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static int Data(CliArgs cli)
    {
        string format = cli.Required("format");
        string path = cli.Required("path");
        string? images = cli.Option("images");
        string? labels = cli.Option("labels");
        bool strict = cli.Flag("strict");
        string? preview = cli.Option("preview");
        cli.EnsureAllUsed();

        string Images() => images ?? throw new ArgumentException($"format {format} needs --images");
        Dataset data = format switch
        {
            "jsonl" => Loaders.Jsonl(path, strict),
            "folder" => Loaders.FolderPerClass(path, strict),
            "csv" => Loaders.LabelCsv(path, Images(), strict: strict),
            "biwi" => Loaders.Biwi(path, strict),
            "points" => Loaders.PointsCsv(path, Images(), strict: strict),
            "boxes" => Loaders.BoxCsv(path, Images(), strict),
            "segmentation" => Loaders.Segmentation(path, strict),
            "idx" => Loaders.Idx(path, labels ?? throw new ArgumentException("format idx needs --labels"), s_fashionMnist),
            _ => throw new ArgumentException($"option --format: '{format}' is not one of: jsonl, folder, csv, biwi, points, boxes, segmentation, idx"),
        };
        Console.WriteLine(data);
        foreach (string skip in data.Skipped.First)
        {
            Console.WriteLine($"  skipped: {skip}");
        }

        if (preview != null)
        {
            var picked = data.Items.Take(24).ToList();
            var pictures = picked.Select(i => i.Load()).ToList();
            try
            {
                ContactSheet.Write(preview, [.. picked.Select((item, i) => (pictures[i], (Mat?)null, item.Label))]);
            }
            finally
            {
                pictures.ForEach(p => p.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
    }

    private static TrainRequest TrainArgs(CliArgs cli)
    {
        var options = new TrainOptions
        {
            Epochs = cli.Int("epochs", 5, 0, 10_000),
            FreezeEpochs = cli.Int("freeze-epochs", 1, 0, 10_000),
            BatchSize = cli.Int("batch", 32, 1, 4096),
            Lr = Number(cli, "lr", 2e-3),
            LrMult = Number(cli, "lr-mult", 100),
            WeightDecay = Number(cli, "wd", 0.01),
            Patience = cli.Int("patience", 0, 0),
            Seed = cli.Int("seed", 0),
            Threads = cli.Int("threads", Environment.ProcessorCount, 1, 256),
            MaxBatches = cli.Int("max-batches", 0, 0),
            LossWeights = cli.Option("loss-weights") is { } w ? Weights(w) : [],
            Augment = cli.Flag("no-augment") ? AugmentOptions.None : new AugmentOptions(),
        };
        return new TrainRequest
        {
            Data = CliArgs.List(cli.Required("data")),
            Arch = cli.Option("arch") ?? "blazeface",
            Heads = CliArgs.List(cli.Option("heads") ?? "center"),
            Size = cli.Int("size", 0, 0, 1024),
            Weights = cli.Option("weights"),
            Out = cli.Required("out"),
            Export = cli.Option("export"),
            Resume = cli.Flag("resume"),
            ValidGroups = cli.Option("valid-groups") is { } g ? CliArgs.List(g) : [],
            Options = options,
        };
    }

    private static int Train(CliArgs cli)
    {
        TrainRequest request = TrainArgs(cli);
        cli.EnsureAllUsed();
        return TrainRun.Run(request, Console.Out);
    }

    private static int LrFind(CliArgs cli)
    {
        string plot = cli.Option("plot") ?? "lr-find.png";
        TrainRequest r = TrainArgs(cli);
        cli.EnsureAllUsed();
        (List<Data.DataItem> train, List<Data.DataItem> valid, _) = TrainRun.LoadData(r, Console.Out);
        var config = new ModelConfig { Backbone = r.Arch, InputSize = r.Size, Heads = [.. r.Heads.Select(h => new HeadConfig { Kind = h })] };
        config.Validate("options --arch/--heads");
        TrainRun.CheckHeads(config, train, string.Join(",", r.Data));
        TorchSharp.torch.manual_seed(r.Options.Seed);
        using var model = new MultiHeadNet(config);
        if (r.Weights != "none" && (r.Weights != null || r.Arch == "blazeface"))
        {
            PretrainedBackbone.Load(model, r.Weights ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")));
        }

        var pre = model.Backbone.Preprocessing;
        using var learner = new Learner(model, new Batcher(train, config, pre, []), new Batcher(valid, config, pre, []), r.Options);
        (List<(double Lr, double Loss)> curve, double suggestion) = learner.LrFind();
        LinePlot.Write(plot, $"lr-find: suggested {suggestion:G2}", "learning rate (log)", "smoothed loss", [new("loss", new Scalar(200, 80, 0), curve)], logX: true, markX: suggestion);
        Console.WriteLine($"lr-find: {curve.Count} steps from {curve[0].Lr:G2} to {curve[^1].Lr:G2}; suggested learning rate {suggestion:G2} (steepest descent); plot {Path.GetFullPath(plot)}");
        return 0;
    }

    private static double Number(CliArgs cli, string name, double fallback) =>
        cli.Option(name) is not { } v ? fallback
        : double.TryParse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && d > 0 ? d
        : throw new ArgumentException($"option --{name} needs a positive number, got '{v}'");

    private static Dictionary<string, double> Weights(string text) =>
        CliArgs.List(text).Select(p => p.Split('=')).ToDictionary(
            p => p.Length == 2 && ModelConfig.HeadKinds.Contains(p[0]) ? p[0] : throw new ArgumentException($"option --loss-weights: '{string.Join("=", p)}' is not KIND=WEIGHT with KIND one of {string.Join(", ", ModelConfig.HeadKinds)}"),
            p => double.TryParse(p[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double w) && w >= 0 ? w : throw new ArgumentException($"option --loss-weights: weight '{p[1]}' is not a number"));

    private static int Eval(CliArgs cli)
    {
        string model = cli.Required("model");
        string[] data = CliArgs.List(cli.Required("data"));
        string split = cli.Option("split") ?? "all";
        string? json = cli.Option("json");
        int batch = cli.Int("batch", 32, 1, 4096);
        int threads = cli.Int("threads", Environment.ProcessorCount, 1, 256);
        cli.EnsureAllUsed();
        if (split is not ("all" or "train" or "valid"))
        {
            throw new ArgumentException($"option --split: '{split}' is not one of: all, train, valid");
        }

        var items = data.SelectMany(d => Loaders.Jsonl(Directory.Exists(d) ? Path.Combine(d, LabelsFile.FileName) : d).Items)
            .Where(i => split == "all" || (i.Label.Split == "valid") == (split == "valid")).ToList();
        if (items.Count == 0)
        {
            throw new InvalidDataException($"--data {string.Join(",", data)}: no {split} items");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyDictionary<string, double> metrics = Evaluator.Run(model, items, batch, threads);
        Console.WriteLine($"{model} on {items.Count} {split} items from {string.Join(",", data)} ({clock.Elapsed.TotalSeconds:F1} s):");
        foreach ((string name, double value) in metrics)
        {
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  {name,-14} {value:G4}"));
        }

        if (json != null)
        {
            File.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(new { model, data, split, items = items.Count, metrics }, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"Wrote {Path.GetFullPath(json)}");
        }

        return 0;
    }

    private static int Inspect(CliArgs cli)
    {
        bool nodes = cli.Flag("nodes");
        string file = cli.Positional() ?? throw new ArgumentException("inspect needs an ONNX file");
        cli.EnsureAllUsed();
        OnnxInspector.Print(file, Console.Out, nodes);
        return 0;
    }
}
