using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading.Tasks;
using HeadTracking.Trainer.Data;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>What `synth-count` draws.</summary>
internal sealed record CountingOptions
{
    public int Count { get; init; } = 1000;

    /// <summary>Fewest and most circles in an image (each count equally likely).</summary>
    public int Min { get; init; } = 1;

    public int Max { get; init; } = 5;

    public int Size { get; init; } = 128;

    public int Seed { get; init; }

    /// <summary>Share of images written to valid/ instead of train/.</summary>
    public double ValidFraction { get; init; } = 0.2;
}

/// <summary>
/// Images for counting objects (the "counting with fastai" blog experiment): each shows N filled
/// circles that neither touch nor leave the frame, N drawn uniformly from [Min, Max], radii and
/// grey levels random, on a dark background with a little noise. Written as
/// OUT/train/N/NNNNNN.png and OUT/valid/N/NNNNNN.png, the folder-per-class layout
/// (`train --format folder`). Deterministic: image i depends only on (seed, i).
/// </summary>
internal static class CountingImages
{
    /// <summary>Writes the images into <paramref name="outDir"/> atomically; returns how many
    /// went to valid.</summary>
    /// <exception cref="ArgumentException">The circles cannot fit (too many for the size).</exception>
    public static int Write(CountingOptions o, string outDir, int threads, TextWriter log)
    {
        if (o.Min < 1 || o.Max < o.Min)
        {
            throw new ArgumentException($"options --min/--max: need 1 <= min <= max, got {o.Min} and {o.Max}");
        }

        (double rMin, double rMax) = Radii(o);
        if (rMin < 1.5)
        {
            throw new ArgumentException($"options --max/--size: {o.Max} circles in {o.Size}x{o.Size} pixels would be under 3 pixels across; use a larger --size");
        }

        int valid = 0;
        AtomicDirectory.Write(outDir, temp =>
        {
            var splits = new bool[o.Count];
            Parallel.For(0, o.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, i =>
            {
                var rng = new Random(unchecked((o.Seed * 1_000_003) + i));
                int n = o.Min + rng.Next(o.Max - o.Min + 1);
                splits[i] = rng.NextDouble() < o.ValidFraction;
                using Mat image = Draw(n, o.Size, rMin, rMax, rng);
                string dir = Path.Combine(temp, splits[i] ? "valid" : "train", n.ToString(CultureInfo.InvariantCulture));
                Directory.CreateDirectory(dir);
                Cv2.ImWrite(Path.Combine(dir, $"{i:D6}.png"), image);
            });
            foreach (bool v in splits)
            {
                valid += v ? 1 : 0;
            }

            return 0;
        });
        log.WriteLine($"Wrote {o.Count} images of {o.Min} to {o.Max} circles ({o.Size}x{o.Size}, radius {rMin:F1}-{rMax:F1} px) to {Path.GetFullPath(outDir)}: {o.Count - valid} in train/, {valid} in valid/, a folder per count");
        return valid;
    }

    /// <summary>Radii such that <see cref="CountingOptions.Max"/> circles cover at most a fifth
    /// of the image (so they always fit apart), and no circle exceeds a tenth of its side.</summary>
    private static (double Min, double Max) Radii(CountingOptions o)
    {
        double max = Math.Min(o.Size * 0.1, o.Size * Math.Sqrt(0.2 / (Math.PI * o.Max)));
        return (max * 0.6, max);
    }

    private static Mat Draw(int n, int size, double rMin, double rMax, Random rng)
    {
        for (int attempt = 0; ; attempt++)
        {
            var circles = new List<(double X, double Y, double R)>(n);
            int tries = 0;
            while (circles.Count < n && tries < n * 400)
            {
                tries++;
                double r = rMin + (rng.NextDouble() * (rMax - rMin));
                double x = r + 1 + (rng.NextDouble() * (size - (2 * r) - 2)), y = r + 1 + (rng.NextDouble() * (size - (2 * r) - 2));
                bool apart = true;
                foreach ((double cx, double cy, double cr) in circles)
                {
                    double gap = Math.Sqrt(((cx - x) * (cx - x)) + ((cy - y) * (cy - y))) - cr - r;
                    apart &= gap >= 2;
                }

                if (apart)
                {
                    circles.Add((x, y, r));
                }
            }

            if (circles.Count < n && attempt < 20)
            {
                continue;
            }

            if (circles.Count < n)
            {
                throw new InvalidOperationException($"could not place {n} circles apart in {size}x{size} pixels");
            }

            var image = new Mat(size, size, MatType.CV_8UC3, Scalar.All(20 + rng.Next(30)));
            foreach ((double x, double y, double r) in circles)
            {
                int grey = 150 + rng.Next(106);
                Cv2.Circle(image, new Point(x * 16, y * 16), (int)Math.Round(r * 16), Scalar.All(grey), -1, LineTypes.AntiAlias, 4);
            }

            // Sensor-like noise from the image's own generator, so the bytes follow from (seed, i).
            image.GetArray(out Vec3b[] px);
            for (int p = 0; p < px.Length; p++)
            {
                int v = Math.Min(255, px[p].Item0 + rng.Next(12));
                px[p] = new Vec3b((byte)v, (byte)v, (byte)v);
            }

            image.SetArray(px);
            return image;
        }
    }
}
