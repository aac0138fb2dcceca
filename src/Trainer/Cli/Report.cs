using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Trainer.Data;
using OpenCvSharp;

namespace HeadTracking.Trainer.Cli;

/// <summary>What commands print and draw beside their work: metrics, label previews.</summary>
internal static class Report
{
    /// <summary>Draws the first 24 records of a folder's labels.jsonl over their images into a PNG.</summary>
    public static void PreviewLabels(string folder, string png)
    {
        var labels = LabelsFile.Read(Path.Combine(folder, LabelsFile.FileName), new SkipReport()).Take(24).ToList();
        var pictures = labels.Select(l => Cv2.ImRead(Path.Combine(folder, l.Image))).ToList();
        try
        {
            ContactSheet.Write(png, [.. labels.Select((l, i) => (pictures[i], (Mat?)null, l))]);
        }
        finally
        {
            pictures.ForEach(p => p.Dispose());
        }

        Console.WriteLine($"Preview: {Path.GetFullPath(png)}");
    }

    public static void PrintMetrics(IReadOnlyDictionary<string, double> metrics)
    {
        foreach ((string name, double value) in metrics)
        {
            Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"  {name,-14} {value:G4}"));
        }
    }
}
