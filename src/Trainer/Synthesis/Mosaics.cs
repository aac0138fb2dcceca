using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using HeadTracking.Trainer.Data;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>
/// A multi-label task from real single-label images: each output image is a 2x2 mosaic of four
/// random images of a classification set (Fashion-MNIST, say), and its labels are the set of
/// classes present. Written in fastai's PASCAL layout: OUT/images/NNNNNN.png and OUT/labels.csv
/// ("fname,labels,is_valid", labels separated by spaces, spaces in class names turned into '_').
/// Train mosaics use only train images and valid mosaics only valid ones, so no item is seen in
/// both. Deterministic: mosaic i depends only on (seed, i).
/// </summary>
internal static class Mosaics
{
    /// <returns>How many mosaics went to valid.</returns>
    /// <exception cref="InvalidDataException">The source lacks train or valid items.</exception>
    public static int Write(Dataset source, string outDir, int count, double validFraction, int seed, TextWriter log)
    {
        DataItem[] train = [.. source.Train], valid = [.. source.Valid];
        if (train.Length < 4 || valid.Length < 4)
        {
            throw new InvalidDataException($"{source.Source}: mosaics need at least 4 train and 4 valid items, found {train.Length} and {valid.Length}");
        }

        int validCount = 0;
        AtomicDirectory.Write(outDir, temp =>
        {
            string images = Path.Combine(temp, "images");
            Directory.CreateDirectory(images);
            var csv = new StringBuilder("fname,labels,is_valid\n");
            for (int i = 0; i < count; i++)
            {
                var rng = new Random(unchecked((seed * 1_000_003) + i));
                bool isValid = rng.NextDouble() < validFraction;
                DataItem[] pool = isValid ? valid : train;
                DataItem[] picked = [.. Enumerable.Range(0, 4).Select(_ => pool[rng.Next(pool.Length)])];
                using Mat mosaic = Compose(picked);
                string name = $"{i:D6}.png";
                Cv2.ImWrite(Path.Combine(images, name), mosaic);
                string labels = string.Join(" ", picked.Select(p => p.Label.Classes![0].Replace(' ', '_')).Distinct().Order(StringComparer.Ordinal));
                csv.Append(CultureInfo.InvariantCulture, $"images/{name},{labels},{(isValid ? "True" : "False")}\n");
                validCount += isValid ? 1 : 0;
            }

            File.WriteAllText(Path.Combine(temp, "labels.csv"), csv.ToString());
            return 0;
        });
        log.WriteLine($"Wrote {count} 2x2 mosaics of {source.Source} to {Path.GetFullPath(outDir)} (images/, labels.csv): {count - validCount} train, {validCount} valid");
        return validCount;
    }

    private static Mat Compose(DataItem[] four)
    {
        var tiles = four.Select(f => f.Load()).ToList();
        try
        {
            int w = tiles.Max(t => t.Width), h = tiles.Max(t => t.Height);
            var mosaic = new Mat(h * 2, w * 2, MatType.CV_8UC3, Scalar.Black);
            for (int k = 0; k < 4; k++)
            {
                using var roi = new Mat(mosaic, new Rect((k % 2) * w, (k / 2) * h, tiles[k].Width, tiles[k].Height));
                tiles[k].CopyTo(roi);
            }

            return mosaic;
        }
        finally
        {
            tiles.ForEach(t => t.Dispose());
        }
    }
}
