using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Training;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>eval</c>: metrics of an exported model, run by the runtime's own HeadModel.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = Text("--model", "An ONNX model exported by headtracker-train.", required: true);
        var dataOptions = new DataOptionSet();
        var split = Text("--split", "all, train or valid (default all): the split train made of the same data and options.");
        var json = Text("--json", "Also write the metrics to this JSON file.");
        var batch = Int("--batch", "Batch size.", 32, 1, 4096);
        var threads = Int("--threads", "ONNX Runtime threads.", Environment.ProcessorCount, 1, 256);
        var seed = Int("--seed", "The seed train was given (it picks a random split).", 0);
        var threshold = Number("--threshold", "Multi-label: the probability above which a label counts as predicted.", 0.5, 1e-6, 1 - 1e-6);
        var by = Text("--by", "Also break the metrics down by: yaw (|yaw| 0-30, 30-60, 60+ degrees), face (face box width 0-30%, 30-45%, 45%+ of the image), person (the labels' identity: which person, or which photo's face a synthetic head wears) or frame (how much of the face box lies outside the image: none, under a quarter, a quarter or more).");
        var c = new Command("eval", "Metrics of an exported model run as the runtime runs it: its letterbox, ONNX Runtime and its decoders (HeadModel), scored against labels moved by the same input transform.") { model, split, json, batch, threads, seed, threshold, by };
        dataOptions.AddTo(c);
        c.SetAction(r => Eval(r.Get(model), dataOptions.Read(r, r.GetValue(seed)), r.GetValue(split) ?? "all", r.GetValue(json), r.GetValue(batch), r.GetValue(threads), r.GetValue(threshold), r.GetValue(by)));
        return c;
    }

    private static int Eval(string model, DataSpec spec, string split, string? json, int batch, int threads, double threshold, string? by)
    {
        if (split is not ("all" or "train" or "valid"))
        {
            throw new ArgumentException($"option --split: '{split}' is not one of: all, train, valid");
        }

        if (by is not (null or "yaw" or "face" or "person" or "frame"))
        {
            throw new ArgumentException($"option --by: '{by}' is not one of: yaw, face, person, frame");
        }

        List<DataItem> items = DataOptionSet.SplitItems(spec, split);
        string data = string.Join(",", spec.Paths);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyDictionary<string, double> metrics = Evaluator.Run(model, items, batch, threads, threshold);
        Console.WriteLine($"{model} on {items.Count} {split} items from {data} ({clock.Elapsed.TotalSeconds:F1} s):");
        Report.PrintMetrics(metrics);

        // Per bin: the same metrics on the items whose label falls in it (items without that label are left out).
        var bins = new Dictionary<string, object>();
        if (by != null)
        {
            foreach (IGrouping<string, DataItem> bin in items.Select(i => (Item: i, Bin: Bin(i.Label, by))).Where(p => p.Bin != null)
                .GroupBy(p => p.Bin!, p => p.Item).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                IReadOnlyDictionary<string, double> binMetrics = Evaluator.Run(model, [.. bin], batch, threads, threshold);
                Console.WriteLine($"{by} {bin.Key}: {bin.Count()} items");
                Report.PrintMetrics(binMetrics);
                bins[bin.Key] = new { items = bin.Count(), metrics = binMetrics };
            }
        }

        if (json != null)
        {
            object result = by == null
                ? new { model, data, split, items = items.Count, metrics }
                : new { model, data, split, items = items.Count, metrics, by, bins };
            File.WriteAllText(json, System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            Console.WriteLine($"Wrote {Path.GetFullPath(json)}");
        }

        return 0;
    }

    /// <summary>The bin of a label for --by, or null when the label lacks what the bin needs.</summary>
    internal static string? Bin(HeadLabel label, string by) => by switch
    {
        "yaw" when label.Pose is { } p => Math.Abs(p.Yaw) switch { < 30 => "|yaw| 00-30", < 60 => "|yaw| 30-60", _ => "|yaw| 60+" },
        "face" when label.Box is { Length: 4 } b && label.Width > 0 => ((b[2] - b[0]) / label.Width) switch { < 0.3 => "face 00-30%", < 0.45 => "face 30-45%", _ => "face 45%+" },
        "person" when !string.IsNullOrEmpty(label.Identity) => label.Identity,
        "frame" when label.Box is { Length: 4 } b && label.Width > 0 && label.Height > 0 && b[2] > b[0] && b[3] > b[1] => OutsideShare(b, label.Width, label.Height) switch
        {
            <= 0 => "frame whole",
            < 0.25 => "frame cut 00-25%",
            _ => "frame cut 25%+",
        },
        _ => null,
    };

    /// <summary>The share of a box's area that lies outside a width x height image.</summary>
    internal static double OutsideShare(double[] box, int width, int height)
    {
        double inside = Math.Max(0, Math.Min(box[2], width) - Math.Max(box[0], 0)) * Math.Max(0, Math.Min(box[3], height) - Math.Max(box[1], 0));
        return 1 - inside / ((box[2] - box[0]) * (double)(box[3] - box[1]));
    }
}
