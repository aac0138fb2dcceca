using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Cli;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using HeadTracking.Trainer.Training;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer;

/// <summary>The data options every command that reads a data set shares, and the commands of the
/// classic transfer-learning tasks: synth-count, mosaic, interpret.</summary>
internal static partial class Program
{
    /// <summary>--data and the options that say how to read and split it (train, lr-find, eval, interpret).</summary>
    private sealed class DataOptionSet
    {
        public Option<string> Data { get; } = Text("--data", "The data: folders or labels.jsonl files (jsonl, comma-separated), a root folder (folder, segmentation, biwi, idx), or a CSV (csv, points, boxes).", required: true);
        public Option<string> Format { get; } = Text("--format", $"Layout of --data: {string.Join(", ", DataSpec.Formats)} (default jsonl). See `headtracker-train data --help`.");
        public Option<string> Images { get; } = Text("--images", "csv and points: the image folder; boxes: the root holding the image folders (default: the CSV's folder).");
        public Option<string> Labels { get; } = Text("--labels", "idx with an images file as --data: its labels file.");
        public Option<string> LabelRegex { get; } = Text("--label-regex", "folder: label each image by the first group of this regex on its file name (fastai's RegexLabeller), e.g. '(.+)_\\d+.jpg$'.");
        public Option<string> ValueColumns { get; } = Text("--value-columns", "csv: columns of continuous targets for a value head, comma-separated (e.g. age).");
        public Option<string> LabelAsValue { get; } = Text("--label-as-value", "folder: the labels are numbers (e.g. a folder per count); learn them as one value of this name with a value head (--heads value) instead of as classes.");
        public Option<double?> ValidPct { get; } = Share("--valid-pct", "Hold out this share of items at random when the data carries no split (default: 10% of identities, or of items where there are none).");
        public Option<string> ValidGroups { get; } = Text("--valid-groups", "Identities to hold out for validation, comma-separated (overrides the data's own split).");

        public void AddTo(Command c)
        {
            foreach (Option o in new Option[] { Data, Format, Images, Labels, LabelRegex, ValueColumns, LabelAsValue, ValidPct, ValidGroups })
            {
                c.Options.Add(o);
            }
        }

        public DataSpec Read(ParseResult r, int seed)
        {
            string format = r.GetValue(Format) ?? "jsonl";
            return new DataSpec
            {
                Format = format,
                Paths = format == "jsonl" ? CliArgs.List(r.Get(Data)) : [r.Get(Data)],
                Images = r.GetValue(Images),
                Labels = r.GetValue(Labels),
                LabelRegex = r.GetValue(LabelRegex),
                ValueColumns = r.GetValue(ValueColumns) is { } v ? CliArgs.List(v) : [],
                LabelAsValue = r.GetValue(LabelAsValue),
                ValidPct = r.GetValue(ValidPct),
                ValidGroups = r.GetValue(ValidGroups) is { } g ? CliArgs.List(g) : [],
                Seed = seed,
            };
        }
    }

    /// <summary>The items of one split of a data set: train's split, from the same options.</summary>
    /// <exception cref="ArgumentException">Not all, train or valid.</exception>
    /// <exception cref="InvalidDataException">The split is empty.</exception>
    private static List<DataItem> SplitItems(DataSpec spec, string split)
    {
        if (split is not ("all" or "train" or "valid"))
        {
            throw new ArgumentException($"option --split: '{split}' is not one of: all, train, valid");
        }

        (Dataset all, List<DataItem> train, List<DataItem> valid) = spec.LoadSplit();
        List<DataItem> items = split switch { "train" => train, "valid" => valid, _ => [.. all.Items] };
        if (items.Count == 0)
        {
            throw new InvalidDataException($"--data {string.Join(",", spec.Paths)}: no {split} items");
        }

        return items;
    }

    private static float[] RangeOf(string text)
    {
        string[] parts = CliArgs.List(text);
        if (parts.Length == 2
            && float.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out float lo)
            && float.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out float hi)
            && float.IsFinite(lo) && float.IsFinite(hi) && hi > lo)
        {
            return [lo, hi];
        }

        throw new ArgumentException($"option --y-range: '{text}' is not LOW,HIGH with LOW < HIGH");
    }

    private static AugmentOptions AugmentOf(string name) => name switch
    {
        "default" => new AugmentOptions(),
        "none" => AugmentOptions.None,
        // Geometry that keeps every object whole: flips and small rotations, no crop, zoom or shift.
        "no-crop" => new AugmentOptions { CropProbability = 0, MaxZoom = 1, MaxShift = 0, MaxRotate = 10 },
        // Mirror images only: for small, centred, upright objects (Fashion-MNIST), where any other
        // change costs more than it teaches.
        "flip" => AugmentOptions.None with { FlipProbability = 0.5 },
        _ => throw new ArgumentException($"option --augment: '{name}' is not one of: default, none, no-crop, flip"),
    };

    private static Command SynthCountCommand()
    {
        var output = Text("--out", "Folder to write train/N/*.png and valid/N/*.png into (N: the number of circles).", required: true);
        var count = Int("--count", "How many images.", 1000, 1, 10_000_000);
        var min = Int("--min", "Fewest circles in an image.", 1, 1, 10_000);
        var max = Int("--max", "Most circles in an image.", 5, 1, 10_000);
        var size = Int("--size", "Image size in pixels.", 128, 16, 2048);
        var seed = Int("--seed", "Random seed: the same seed gives the same bytes.", 0);
        var valid = Number("--valid-pct", "Share of images written to valid/.", 0.2, 0, 0.9);
        var threads = Int("--threads", "Worker threads.", Environment.ProcessorCount, 1, 256);
        var c = new Command("synth-count", "Images of N circles (N from --min to --max) in a folder per count, for counting as classification (train --format folder --heads class).")
            { output, count, min, max, size, seed, valid, threads };
        c.SetAction(r =>
        {
            CountingImages.Write(
                new CountingOptions { Count = r.GetValue(count), Min = r.GetValue(min), Max = r.GetValue(max), Size = r.GetValue(size), Seed = r.GetValue(seed), ValidFraction = r.GetValue(valid) },
                r.Get(output), r.GetValue(threads), Console.Out);
            return 0;
        });
        return c;
    }

    private static Command MosaicCommand()
    {
        var source = Text("--idx", "Folder of idx files (train-* and t10k-*; default: the fetched Fashion-MNIST).");
        var output = Text("--out", "Folder to write images/ and labels.csv (fname,labels,is_valid) into.", required: true);
        var count = Int("--count", "How many mosaics.", 10_000, 1, 10_000_000);
        var valid = Number("--valid-pct", "Share of mosaics made from valid images and marked is_valid.", 0.2, 0, 0.9);
        var seed = Int("--seed", "Random seed.", 0);
        var c = new Command("mosaic", "A multi-label task from real images: 2x2 mosaics of idx images (Fashion-MNIST), labelled with the set of classes present (train --format csv --heads class).")
            { source, output, count, valid, seed };
        c.SetAction(r =>
        {
            Dataset idx = new DataSpec { Format = "idx", Paths = [r.GetValue(source) ?? ExternalData.Find("fashion-mnist")] }.Load();
            Mosaics.Write(idx, r.Get(output), r.GetValue(count), r.GetValue(valid), r.GetValue(seed), Console.Out);
            return 0;
        });
        return c;
    }

    private static Command InterpretCommand()
    {
        var model = Text("--model", "An ONNX model exported by headtracker-train.", required: true);
        var dataOptions = new DataOptionSet();
        var output = Text("--out", "Folder for confusion.png, top-losses.png, segmentation.png and interpret.json (default: interpret).");
        var split = Text("--split", "all, train or valid (default valid): the split train made of the same data and options.");
        var top = Int("--top", "How many of the worst predictions top-losses.png shows.", 12, 1, 200);
        var batch = Int("--batch", "Batch size.", 32, 1, 4096);
        var threads = Int("--threads", "ONNX Runtime threads.", Environment.ProcessorCount, 1, 256);
        var seed = Int("--seed", "The seed train was given (it picks a random split).", 0);
        var threshold = Number("--threshold", "Multi-label: the probability above which a label counts as predicted.", 0.5, 1e-6, 1 - 1e-6);
        var c = new Command("interpret", "Looks at what an exported model gets wrong, in ONNX Runtime: confusion matrix, most-confused pairs, top losses, per-label F1, per-class IoU, a colour-coded segmentation grid.")
            { model, output, split, top, batch, threads, seed, threshold };
        dataOptions.AddTo(c);
        c.SetAction(r =>
        {
            List<DataItem> items = SplitItems(dataOptions.Read(r, r.GetValue(seed)), r.GetValue(split) ?? "valid");
            using var exported = new ExportedModel(r.Get(model), r.GetValue(threads));
            string outDir = r.GetValue(output) ?? "interpret";
            var report = new Interpretation(exported, r.GetValue(threshold), r.GetValue(top)).Run(items, outDir, r.GetValue(batch), Console.Out);
            Console.WriteLine($"{r.Get(model)} on {items.Count} items:");
            PrintMetrics(report.Metrics.Where(m => !m.Key.StartsWith("f1_", StringComparison.Ordinal) || m.Key == "f1_macro").Where(m => !m.Key.StartsWith("iou_", StringComparison.Ordinal)).ToDictionary());
            Console.WriteLine($"Wrote {string.Join(", ", report.Files.Select(Path.GetFullPath))}");
            return 0;
        });
        return c;
    }
}
