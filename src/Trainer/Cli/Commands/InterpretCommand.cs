using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Training;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>interpret</c>: what an exported model gets wrong.</summary>
internal static class InterpretCommand
{
    public static Command Create()
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
            List<DataItem> items = DataOptionSet.SplitItems(dataOptions.Read(r, r.GetValue(seed)), r.GetValue(split) ?? "valid");
            using var exported = new ExportedModel(r.Get(model), r.GetValue(threads));
            string outDir = r.GetValue(output) ?? "interpret";
            var report = new Interpretation(exported, r.GetValue(threshold), r.GetValue(top)).Run(items, outDir, r.GetValue(batch), Console.Out);
            Console.WriteLine($"{r.Get(model)} on {items.Count} items:");
            Report.PrintMetrics(report.Metrics.Where(m => !m.Key.StartsWith("f1_", StringComparison.Ordinal) || m.Key == "f1_macro").Where(m => !m.Key.StartsWith("iou_", StringComparison.Ordinal)).ToDictionary());
            Console.WriteLine($"Wrote {string.Join(", ", report.Files.Select(Path.GetFullPath))}");
            return 0;
        });
        return c;
    }
}
