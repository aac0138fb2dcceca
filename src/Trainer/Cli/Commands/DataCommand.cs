using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Data;
using OpenCvSharp;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>data</c>: loads a data set and reports what it holds and skipped.</summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var format = Text("--format", $"{string.Join(", ", DataSpec.Formats)}.", required: true);
        var path = Text("--path", "The labels file or folder, CSV, root folder, or (idx) the images file or the folder of idx files.", required: true);
        var images = Text("--images", "csv and points: the image folder; boxes: the root holding the folders (default: the CSV's folder).");
        var labels = Text("--labels", "idx: the labels file.");
        var labelRegex = Text("--label-regex", "folder: label each image by the first group of this regex on its file name, e.g. '(.+)_\\d+.jpg$'.");
        var valueColumns = Text("--value-columns", "csv: columns of continuous targets, comma-separated.");
        var strict = Flag("--strict", "Stop at the first bad line, naming the file and line.");
        var preview = Text("--preview", "Also draw the first items with their labels into this PNG.");
        var c = new Command("data", "Loads a data set and reports what it holds and what it skipped.") { format, path, images, labels, labelRegex, valueColumns, strict, preview };
        c.SetAction(r => Data(
            new DataSpec
            {
                Format = r.Get(format),
                Paths = r.GetValue(format) == "jsonl" ? CliArgs.List(r.Get(path)) : [r.Get(path)],
                Images = r.GetValue(images),
                Labels = r.GetValue(labels),
                LabelRegex = r.GetValue(labelRegex),
                ValueColumns = r.GetValue(valueColumns) is { } v ? CliArgs.List(v) : [],
                Strict = r.GetValue(strict),
            },
            r.GetValue(preview)));
        return c;
    }

    private static int Data(DataSpec spec, string? preview)
    {
        Dataset data = spec.Load();
        Console.WriteLine(data);
        foreach (string skip in data.Skipped.First)
        {
            Console.WriteLine($"  skipped: {skip}");
        }

        if (preview != null)
        {
            var picked = data.Items.Take(24).ToList();
            var pictures = picked.Select(i => i.Load()).ToList();
            var masks = picked.Select(i => i.Label.Mask is { } m ? Cv2.ImRead(m, ImreadModes.Grayscale) : null).ToList();
            try
            {
                ContactSheet.Write(preview, [.. picked.Select((item, i) => (pictures[i], masks[i] is { } m && !m.Empty() ? m : null, item.Label))], maskCodes: data.MaskCodes.Count);
            }
            finally
            {
                pictures.ForEach(p => p.Dispose());
                masks.ForEach(m => m?.Dispose());
            }

            Console.WriteLine($"Preview: {Path.GetFullPath(preview)}");
        }

        return 0;
    }
}
