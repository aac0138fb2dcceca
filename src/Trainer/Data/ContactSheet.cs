using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using OpenCvSharp;

namespace HeadTracking.Trainer.Data;

/// <summary>A grid of images with their labels drawn on: box, keypoints (hollow when hidden),
/// head centre, pose axes and the mask outline. For people to check data at a glance.</summary>
internal static class ContactSheet
{
    private static readonly Scalar[] s_keypointColours =
        [new(60, 60, 255), new(255, 120, 40), new(40, 230, 255), new(255, 60, 255), new(255, 255, 60), new(40, 160, 255)];

    /// <summary>Colours of segmentation codes (BGR): background dark, then distinct hues.</summary>
    internal static readonly Scalar[] CodeColours =
    [
        new(40, 40, 40), new(80, 180, 255), new(40, 60, 200), new(200, 120, 60), new(80, 220, 80), new(220, 60, 220),
        new(60, 220, 220), new(240, 240, 240), new(0, 120, 255), new(160, 0, 80), new(120, 120, 0), new(0, 80, 160),
    ];

    /// <param name="samples">Image, optional mask, label; drawn at <paramref name="cell"/> pixels.</param>
    /// <param name="maskCodes">0: masks are head (255) or not, drawn as an outline; otherwise
    /// masks hold a code per pixel (255: not labelled) and are drawn colour-coded over the image.</param>
    public static void Write(string path, IReadOnlyList<(Mat Image, Mat? Mask, HeadLabel Label)> samples, int columns = 6, int cell = 192, int maskCodes = 0)
    {
        int rows = Math.Max(1, (samples.Count + columns - 1) / columns);
        using var sheet = new Mat(rows * cell, columns * cell, MatType.CV_8UC3, Scalar.All(32));
        for (int i = 0; i < samples.Count; i++)
        {
            (Mat image, Mat? mask, HeadLabel label) = samples[i];
            double scale = (double)cell / Math.Max(image.Width, image.Height);
            using var tile = image.Resize(new Size((int)(image.Width * scale), (int)(image.Height * scale)), 0, 0, InterpolationFlags.Linear);
            Draw(tile, mask, label, scale, maskCodes);
            using var roi = new Mat(sheet, new Rect((i % columns) * cell, (i / columns) * cell, tile.Width, tile.Height));
            tile.CopyTo(roi);
        }

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        if (!Cv2.ImWrite(full, sheet))
        {
            throw new IOException($"cannot write {full}");
        }
    }

    private static void Draw(Mat tile, Mat? mask, HeadLabel l, double scale, int maskCodes)
    {
        Point P(double x, double y) => new((int)Math.Round(x * scale), (int)Math.Round(y * scale));
        if (mask != null && maskCodes > 0)
        {
            // Half image, half the code's colour; unlabelled pixels keep the image.
            using var small = mask.Resize(tile.Size(), 0, 0, InterpolationFlags.Nearest);
            small.GetArray(out byte[] codes);
            tile.GetArray(out Vec3b[] px);
            for (int p = 0; p < px.Length; p++)
            {
                if (codes[p] < 255)
                {
                    Scalar colour = CodeColours[codes[p] % CodeColours.Length];
                    px[p] = new Vec3b((byte)((px[p].Item0 + colour.Val0) / 2), (byte)((px[p].Item1 + colour.Val1) / 2), (byte)((px[p].Item2 + colour.Val2) / 2));
                }
            }

            tile.SetArray(px);
        }
        else if (mask != null)
        {
            using var small = mask.Resize(tile.Size(), 0, 0, InterpolationFlags.Nearest);
            Cv2.FindContours(small, out Point[][] contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
            Cv2.DrawContours(tile, contours, -1, new Scalar(255, 200, 0), 1);
        }

        // Class names and values as a caption (the prediction's tile says "prediction" first).
        string caption = string.Join(" ", (l.Classes ?? []).Concat((l.Values ?? []).Select(v => Training.ResultsGrid.Short(v))));
        bool note = l.Image.StartsWith("loss ", StringComparison.Ordinal);
        if (caption.Length > 0 || note)
        {
            string text = note ? l.Image : l.Image == "prediction" ? $"pred: {caption}" : caption;
            Cv2.Rectangle(tile, new Rect(0, 0, tile.Width, 16), new Scalar(0, 0, 0), -1);
            Cv2.PutText(tile, text.Length > 40 ? text[..40] : text, new Point(3, 12), HersheyFonts.HersheySimplex, 0.4, Scalar.White, 1, LineTypes.AntiAlias);
        }

        if (l.Box is { } b)
        {
            Cv2.Rectangle(tile, P(b[0], b[1]), P(b[2], b[3]), new Scalar(60, 255, 60), 1);
        }

        if (l.Keypoints is { } k)
        {
            for (int i = 0; i < k.Length; i++)
            {
                bool visible = k[i].Length < 3 || k[i][2] > 0;
                Cv2.Circle(tile, P(k[i][0], k[i][1]), 3, s_keypointColours[i % s_keypointColours.Length], visible ? -1 : 1);
            }
        }

        if (l.Center is { } c)
        {
            Point p = P(c[0], c[1]);
            Cv2.DrawMarker(tile, p, Scalar.White, MarkerTypes.Cross, 10, 1);
            if (l.Pose is { } pose && l.Intrinsics is { } intr)
            {
                // The head's axes, 8 cm long, projected from the head centre: x red, y green, z blue.
                double z = l.Pose.Translation is { } t ? t[2] : 60;
                double f = intr[0];
                double[] r = pose.Rotation;
                Scalar[] colours = [new(0, 0, 255), new(0, 255, 0), new(255, 0, 0)];
                for (int axis = 0; axis < 3; axis++)
                {
                    double dx = r[axis] * 8 * f / z, dy = r[3 + axis] * 8 * f / z;
                    Cv2.Line(tile, p, P(c[0] + dx, c[1] + dy), colours[axis], 1);
                }

                Cv2.PutText(tile, $"y{pose.Yaw:F0} p{pose.Pitch:F0} r{pose.Roll:F0}", new Point(2, tile.Height - 4), HersheyFonts.HersheySimplex, 0.35, Scalar.White);
            }
        }
    }
}
