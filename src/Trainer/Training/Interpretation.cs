using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using OpenCvSharp;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// fastai's ClassificationInterpretation (and its segmentation and regression kin) on an
/// exported model in ONNX Runtime: confusion matrix, most-confused pairs and top losses for a
/// single-label class head; per-label precision, recall and F1 for a multi-label one; per-class
/// IoU and a colour-coded grid for a segmentation; the largest errors for values. Writes PNGs and
/// interpret.json into a folder and prints the tables.
/// </summary>
internal sealed class Interpretation
{
    private readonly ExportedModel _model;
    private readonly double _threshold;
    private readonly int _top;

    public Interpretation(ExportedModel model, double threshold = 0.5, int top = 12)
    {
        _model = model;
        _threshold = threshold;
        _top = top;
    }

    /// <summary>What was written, for the caller to print.</summary>
    public sealed record Report(IReadOnlyList<string> Files, IReadOnlyDictionary<string, double> Metrics);

    public Report Run(IReadOnlyList<DataItem> items, string outDir, int batchSize, TextWriter log)
    {
        Directory.CreateDirectory(outDir);
        ModelConfig config = _model.Config;
        int classHead = config.Heads.FindIndex(h => h.Kind == "class");
        int maskHead = config.Heads.FindIndex(h => h.Kind == "mask" && h.ClassNames is { Length: > 1 });
        int valueHead = config.Heads.FindIndex(h => h.Kind == "value");
        HeadConfig? cls = classHead >= 0 ? config.Heads[classHead] : null;
        int classes = cls?.ClassNames?.Length ?? 0;
        var confusion = new long[classes, classes];
        var metrics = new Objective.Metrics(config, _threshold);
        var worst = new List<(double Loss, Mat Image, HeadLabel Truth, HeadLabel Predicted)>();
        var segGrid = maskHead >= 0 ? new ResultsGrid(config, _model.Preprocessing, _threshold, pairs: 12) : null;
        var files = new List<string>();
        try
        {
            foreach ((Batch batch, float[][] outputs) in _model.Predict(items, batchSize))
            {
                metrics.Add(outputs, batch);
                segGrid?.Add(batch, outputs);
                for (int i = 0; i < batch.Count; i++)
                {
                    double? loss = null;
                    if (cls != null && batch.ClassWeight[i] > 0)
                    {
                        loss = ClassLoss(outputs[classHead], batch, i, classes, cls.MultiLabel);
                        if (!cls.MultiLabel)
                        {
                            int truth = ResultsGrid.ArgMax(batch.ClassTargets, i * classes, classes);
                            int predicted = ResultsGrid.ArgMax(outputs[classHead], i * classes, classes);
                            confusion[truth, predicted]++;
                        }
                    }
                    else if (valueHead >= 0 && batch.ValueWeight[i] > 0)
                    {
                        int v = config.Heads[valueHead].ValueNames!.Length;
                        loss = Enumerable.Range(0, v).Sum(j => Math.Abs(outputs[valueHead][(i * v) + j] - batch.Values[(i * v) + j])) / v;
                    }

                    if (loss is { } l && (worst.Count < _top || l > worst[^1].Loss))
                    {
                        HeadLabel predictedLabel = ResultsGrid.Predicted(config, outputs, i, batch.Size, batch.Labels[i], _threshold);
                        worst.Add((l, ResultsGrid.Denormalise(batch, i, _model.Preprocessing), batch.Labels[i], predictedLabel));
                        worst.Sort((a, b) => b.Loss.CompareTo(a.Loss));
                        if (worst.Count > _top)
                        {
                            worst[^1].Image.Dispose();
                            worst.RemoveAt(worst.Count - 1);
                        }
                    }
                }
            }

            IReadOnlyDictionary<string, double> values = metrics.Values;
            var json = new Dictionary<string, object> { ["model"] = _model.Manifest.Name, ["items"] = items.Count, ["metrics"] = values };
            if (cls != null && !cls.MultiLabel)
            {
                string png = Path.Combine(outDir, "confusion.png");
                DrawConfusion(png, confusion, cls.ClassNames!);
                files.Add(png);
                var pairs = MostConfused(confusion, cls.ClassNames!);
                log.WriteLine("Most confused (actual, predicted, times):");
                foreach ((string actual, string predicted, long times) in pairs.Take(10))
                {
                    log.WriteLine($"  {actual,-16} {predicted,-16} {times,6}");
                }

                json["confusion"] = new { classes = cls.ClassNames, counts = Enumerable.Range(0, classes).Select(r => Enumerable.Range(0, classes).Select(c => confusion[r, c]).ToArray()).ToArray() };
                json["most_confused"] = pairs.Select(p => new { actual = p.Actual, predicted = p.Predicted, times = p.Times }).ToArray();
            }

            if (cls is { MultiLabel: true })
            {
                log.WriteLine($"Per label at threshold {_threshold.ToString(CultureInfo.InvariantCulture)} (F1):");
                foreach (string label in cls.ClassNames!)
                {
                    if (values.TryGetValue($"f1_{label}", out double f1))
                    {
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,-16} {f1:F3}"));
                    }
                }
            }

            if (segGrid != null)
            {
                string png = Path.Combine(outDir, "segmentation.png");
                segGrid.Write(png);
                files.Add(png);
                log.WriteLine("IoU per class: " + string.Join(", ", config.Heads[maskHead].ClassNames!
                    .Where(c => values.ContainsKey($"iou_{c}")).Select(c => string.Create(CultureInfo.InvariantCulture, $"{c} {values[$"iou_{c}"]:F3}"))));
            }

            if (worst.Count > 0)
            {
                string png = Path.Combine(outDir, "top-losses.png");
                var tiles = new List<(Mat, Mat?, HeadLabel)>();
                foreach ((double loss, Mat image, HeadLabel truth, HeadLabel predicted) in worst)
                {
                    // One tile each, fastai's plot_top_losses caption: loss, actual / predicted.
                    string Said(HeadLabel l) => string.Join(" ", (l.Classes ?? []).Concat((l.Values ?? []).Select(ResultsGrid.Short)));
                    string note = string.Create(CultureInfo.InvariantCulture, $"loss {loss:F2}: {Said(truth)} / {Said(predicted)}");
                    tiles.Add((image, null, predicted with { Image = note, Classes = null, Values = null }));
                }

                ContactSheet.Write(png, tiles, columns: 6);

                files.Add(png);
                json["top_losses"] = worst.Select(w => new { loss = w.Loss, image = w.Truth.Image, actual = w.Truth.Classes ?? [], predicted = w.Predicted.Classes ?? [], actual_values = w.Truth.Values, predicted_values = w.Predicted.Values }).ToArray();
            }

            string jsonPath = Path.Combine(outDir, "interpret.json");
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
            files.Add(jsonPath);
            return new Report(files, values);
        }
        finally
        {
            foreach ((_, Mat image, _, _) in worst)
            {
                image.Dispose();
            }
        }
    }

    /// <summary>Cross-entropy of one sample: softmax over classes, or a sigmoid per label.</summary>
    private static double ClassLoss(float[] o, Batch b, int i, int c, bool multiLabel)
    {
        int at = i * c;
        if (multiLabel)
        {
            double sum = 0;
            for (int j = 0; j < c; j++)
            {
                double x = o[at + j], t = b.ClassTargets[at + j];
                sum += Math.Max(x, 0) - (x * t) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
            }

            return sum / c;
        }

        double max = Enumerable.Range(0, c).Max(j => o[at + j]);
        double logSum = max + Math.Log(Enumerable.Range(0, c).Sum(j => Math.Exp(o[at + j] - max)));
        int truth = ResultsGrid.ArgMax(b.ClassTargets, at, c);
        return logSum - o[at + truth];
    }

    /// <summary>Off-diagonal cells, most frequent first (fastai's most_confused).</summary>
    internal static List<(string Actual, string Predicted, long Times)> MostConfused(long[,] confusion, IReadOnlyList<string> names)
    {
        var pairs = new List<(string, string, long)>();
        for (int r = 0; r < names.Count; r++)
        {
            for (int c = 0; c < names.Count; c++)
            {
                if (r != c && confusion[r, c] > 0)
                {
                    pairs.Add((names[r], names[c], confusion[r, c]));
                }
            }
        }

        return [.. pairs.OrderByDescending(p => p.Item3).ThenBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal)];
    }

    /// <summary>The confusion matrix as a picture: rows actual, columns predicted, each cell's
    /// count written on it and shaded by its share of its row.</summary>
    internal static void DrawConfusion(string path, long[,] confusion, IReadOnlyList<string> names)
    {
        int n = names.Count, cell = Math.Clamp(480 / Math.Max(1, n), 24, 56);
        int labelWidth = 12 + (int)(names.Max(s => s.Length) * 7.5), top = labelWidth + 30, left = labelWidth + 30;
        using var img = new Mat(top + (n * cell) + 20, left + (n * cell) + 20, MatType.CV_8UC3, Scalar.White);
        Cv2.PutText(img, "actual (rows) / predicted (columns)", new Point(10, 20), HersheyFonts.HersheySimplex, 0.5, Scalar.Black, 1, LineTypes.AntiAlias);
        for (int r = 0; r < n; r++)
        {
            long rowSum = Math.Max(1, Enumerable.Range(0, n).Sum(c => confusion[r, c]));
            for (int c = 0; c < n; c++)
            {
                double share = (double)confusion[r, c] / rowSum;
                var colour = new Scalar(255 - (share * 150), 255 - (share * 210), 255 - (share * 255));
                var rect = new Rect(left + (c * cell), top + (r * cell), cell, cell);
                Cv2.Rectangle(img, rect, colour, -1);
                Cv2.Rectangle(img, rect, new Scalar(200, 200, 200), 1);
                string text = confusion[r, c].ToString(CultureInfo.InvariantCulture);
                Size size = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, 0.4, 1, out _);
                Cv2.PutText(img, text, new Point(rect.X + ((cell - size.Width) / 2), rect.Y + ((cell + size.Height) / 2)), HersheyFonts.HersheySimplex, 0.4, share > 0.5 ? Scalar.White : Scalar.Black, 1, LineTypes.AntiAlias);
            }

            Cv2.PutText(img, names[r], new Point(10, top + (r * cell) + (cell / 2) + 5), HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
        }

        // Column names written sideways: drawn on a strip, then turned a quarter.
        using var strip = new Mat(n * cell, labelWidth, MatType.CV_8UC3, Scalar.White);
        for (int c = 0; c < n; c++)
        {
            Cv2.PutText(strip, names[c], new Point(5, (c * cell) + (cell / 2) + 5), HersheyFonts.HersheySimplex, 0.45, Scalar.Black, 1, LineTypes.AntiAlias);
        }

        using var turned = new Mat();
        Cv2.Rotate(strip, turned, RotateFlags.Rotate90Counterclockwise);
        using (var roi = new Mat(img, new Rect(left, top - labelWidth - 4, turned.Width, turned.Height)))
        {
            turned.CopyTo(roi);
        }

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (!Cv2.ImWrite(full, img))
        {
            throw new IOException($"cannot write {full}");
        }
    }
}
