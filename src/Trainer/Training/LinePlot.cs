using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using OpenCvSharp;

namespace HeadTracking.Trainer.Training;

/// <summary>A plain line chart as PNG (axes, ticks, legend), drawn with OpenCV.</summary>
internal static class LinePlot
{
    public sealed record Series(string Name, Scalar Colour, IReadOnlyList<(double X, double Y)> Points);

    public static void Write(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logX = false, bool logY = false, double? markX = null)
    {
        const int w = 720, h = 420, left = 70, right = 20, top = 40, bottom = 50;
        using var img = new Mat(h, w, MatType.CV_8UC3, Scalar.White);
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!logX || p.X > 0) && (!logY || p.Y > 0)).ToList();
        Cv2.PutText(img, title, new Point(left, 25), HersheyFonts.HersheySimplex, 0.6, Scalar.Black, 1, LineTypes.AntiAlias);
        if (all.Count > 0)
        {
            double Fx(double x) => logX ? Math.Log10(x) : x;
            double Fy(double y) => logY ? Math.Log10(y) : y;
            double x0 = all.Min(p => Fx(p.X)), x1 = all.Max(p => Fx(p.X)), y0 = all.Min(p => Fy(p.Y)), y1 = all.Max(p => Fy(p.Y));
            if (x1 - x0 < 1e-12) { x1 = x0 + 1; }
            if (y1 - y0 < 1e-12) { y1 = y0 + 1; }
            Point P(double x, double y) => new(left + (int)((Fx(x) - x0) / (x1 - x0) * (w - left - right)), h - bottom - (int)((Fy(y) - y0) / (y1 - y0) * (h - top - bottom)));

            Cv2.Rectangle(img, new Point(left, top), new Point(w - right, h - bottom), new Scalar(180, 180, 180));
            for (int t = 0; t <= 4; t++)
            {
                double xv = x0 + ((x1 - x0) * t / 4), yv = y0 + ((y1 - y0) * t / 4);
                string xt = logX ? $"1e{xv:F1}" : xv.ToString("G3", CultureInfo.InvariantCulture);
                string yt = logY ? Math.Pow(10, yv).ToString("G2", CultureInfo.InvariantCulture) : yv.ToString("G3", CultureInfo.InvariantCulture);
                int px = left + (int)((w - left - right) * t / 4.0), py = h - bottom - (int)((h - top - bottom) * t / 4.0);
                Cv2.PutText(img, xt, new Point(px - 15, h - bottom + 18), HersheyFonts.HersheySimplex, 0.4, Scalar.Black);
                Cv2.PutText(img, yt, new Point(5, py + 4), HersheyFonts.HersheySimplex, 0.4, Scalar.Black);
            }

            for (int s = 0; s < series.Count; s++)
            {
                var pts = series[s].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y) && (!logX || p.X > 0) && (!logY || p.Y > 0)).Select(p => P(p.X, p.Y)).ToArray();
                if (pts.Length > 1)
                {
                    Cv2.Polylines(img, [pts], false, series[s].Colour, 2, LineTypes.AntiAlias);
                }
                else if (pts.Length == 1)
                {
                    Cv2.Circle(img, pts[0], 3, series[s].Colour, -1);
                }

                Cv2.PutText(img, series[s].Name, new Point(w - right - 160, top + 20 + (18 * s)), HersheyFonts.HersheySimplex, 0.5, series[s].Colour, 1, LineTypes.AntiAlias);
            }

            if (markX is double m && (!logX || m > 0))
            {
                int mx = P(m, Math.Pow(10, y0)).X;
                Cv2.Line(img, new Point(mx, top), new Point(mx, h - bottom), new Scalar(0, 0, 200), 1);
            }
        }

        Cv2.PutText(img, xLabel, new Point((w / 2) - 40, h - 12), HersheyFonts.HersheySimplex, 0.5, Scalar.Black);
        Cv2.PutText(img, yLabel, new Point(5, top - 8), HersheyFonts.HersheySimplex, 0.45, Scalar.Black);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        Cv2.ImWrite(full, img);
    }
}

/// <summary>Train and validation loss per epoch.</summary>
internal static class LossPlot
{
    public static void Write(string path, IReadOnlyList<EpochResult> history) =>
        LinePlot.Write(path, "losses", "epoch", "loss (log)",
        [
            new("train_loss", new Scalar(200, 80, 0), [.. history.Select(h => ((double)h.Epoch, h.TrainLoss))]),
            new("valid_loss", new Scalar(0, 120, 255), [.. history.Select(h => ((double)h.Epoch, h.ValidLoss))]),
        ], logY: true);
}
