using System;
using System.Collections.Generic;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Pose;
using OpenCvSharp;

namespace HeadTracking.Trainer.Data;

/// <summary>How strongly to augment; zero everywhere means letterbox only.</summary>
internal sealed record AugmentOptions
{
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>In-plane rotation, degrees either way.</summary>
    public double MaxRotate { get; init; } = 15;

    /// <summary>Zoom: uniform in [1/MaxZoom, MaxZoom].</summary>
    public double MaxZoom { get; init; } = 1.15;

    /// <summary>Shift, as a fraction of the output size, either way.</summary>
    public double MaxShift { get; init; } = 0.08;

    /// <summary>Random resized crop: share of samples cropped, and the smallest area kept.</summary>
    public double CropProbability { get; init; } = 0.3;

    public double MinCropArea { get; init; } = 0.6;

    public double Brightness { get; init; } = 0.2;

    public double Contrast { get; init; } = 0.2;

    public double Saturation { get; init; } = 0.2;

    public double BlurProbability { get; init; } = 0.2;

    public double MaxNoise { get; init; } = 4;

    public static AugmentOptions None { get; } = new()
    {
        FlipProbability = 0, MaxRotate = 0, MaxZoom = 1, MaxShift = 0, CropProbability = 0, Brightness = 0, Contrast = 0, Saturation = 0, BlurProbability = 0, MaxNoise = 0,
    };
}

/// <summary>An image with its labels, ready for a model: the image is the model's size.</summary>
internal sealed record Augmented(Mat Image, Mat? Mask, HeadLabel Label, bool Flipped) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        Mask?.Dispose();
    }
}

/// <summary>
/// Augmentation that moves the labels with the pixels. The letterbox is the runtime's
/// (<see cref="InputTransform"/>: an area resize to the fitted size), then zoom, shift, in-plane
/// rotation and flip are one affine warp of it (a random crop instead folds the letterbox into that
/// one warp); the image, the mask and every coordinate move by the same affine; a flip swaps left
/// and right keypoints and negates yaw and roll; an in-plane rotation turns the pose about the
/// camera axis; intrinsics follow the warp, so the 3D labels stay exact. Colour changes leave labels alone. Thread-safe (no shared state).
/// </summary>
internal static class Augment
{
    /// <param name="maskBorder">The mask value beyond the image (0: background; 255: not labelled).</param>
    public static Augmented Apply(Mat image, Mat? mask, HeadLabel label, int size, AugmentOptions o, Random rng, int[]? flipOrder = null, int maskBorder = 0)
    {
        if (image.Empty())
        {
            throw new ArgumentException($"{label.Image}: empty image", nameof(image));
        }

        int w = image.Width, h = image.Height;
        // 1. Letterbox. Without a random crop exactly as the runtime does (InputTransform): the
        //    source resized by area to its fitted size in whole pixels, centred on black. A random
        //    crop (training only) is fitted at one scale for both axes and warped with the rest.
        bool crop = rng.NextDouble() < o.CropProbability;
        double a, b = 0, c, d = 0, e, f;
        Mat? outImage = null, outMask = null;
        if (crop)
        {
            double area = o.MinCropArea + (rng.NextDouble() * (1 - o.MinCropArea));
            double aspect = Math.Exp((rng.NextDouble() - 0.5) * Math.Log(4.0 / 3.0) * 2);
            double cw = Math.Min(w, w * Math.Sqrt(area * aspect)), ch = Math.Min(h, h * Math.Sqrt(area / aspect));
            double cx0 = rng.NextDouble() * (w - cw), cy0 = rng.NextDouble() * (h - ch);
            double scale = Math.Min(size / cw, size / ch);
            (a, c, e, f) = (scale, ((size - (cw * scale)) / 2) - (cx0 * scale), scale, ((size - (ch * scale)) / 2) - (cy0 * scale));
        }
        else
        {
            InputTransform.Fitted fit = InputTransform.Fit(w, h, size, size);
            (a, c, e, f) = (fit.ScaleX, fit.PadX, fit.ScaleY, fit.PadY);
            var placed = new Rect(fit.PadX, fit.PadY, fit.Width, fit.Height);
            outImage = Fitted(image, placed, size, InterpolationFlags.Area, Scalar.Black);
            outMask = mask == null ? null : Fitted(mask, placed, size, InterpolationFlags.Nearest, Scalar.All(maskBorder));
        }

        // 2. Zoom and rotate about the centre, then shift; 3. flip.
        double zoom = Math.Exp((rng.NextDouble() * 2 - 1) * Math.Log(o.MaxZoom));
        double theta = ((rng.NextDouble() * 2) - 1) * o.MaxRotate * Math.PI / 180;
        double tx = ((rng.NextDouble() * 2) - 1) * o.MaxShift * size, ty = ((rng.NextDouble() * 2) - 1) * o.MaxShift * size;
        double cos = Math.Cos(theta) * zoom, sin = Math.Sin(theta) * zoom, m = size / 2.0;
        double ga = cos, gb = -sin, gc = (-cos * m) + (sin * m) + m + tx, gd = sin, ge = cos, gf = (-sin * m) - (cos * m) + m + ty;
        bool flip = rng.NextDouble() < o.FlipProbability;
        if (flip)
        {
            (ga, gb, gc) = (-ga, -gb, size - gc);
        }

        // The whole move from the source, for the labels (and the crop's single warp).
        (a, b, c, d, e, f) = ((ga * a) + (gb * d), (ga * b) + (gb * e), (ga * c) + (gb * f) + gc,
                              (gd * a) + (ge * d), (gd * b) + (ge * e), (gd * c) + (ge * f) + gf);
        if (outImage == null)
        {
            using var whole = Mat.FromPixelData(2, 3, MatType.CV_64FC1, new[] { a, b, c, d, e, f });
            outImage = Warped(image, whole, size, InterpolationFlags.Linear, Scalar.Black);
            outMask = mask == null ? null : Warped(mask, whole, size, InterpolationFlags.Nearest, Scalar.All(maskBorder));
        }
        else if (ga != 1 || gb != 0 || gc != 0 || gd != 0 || ge != 1 || gf != 0)
        {
            using var more = Mat.FromPixelData(2, 3, MatType.CV_64FC1, new[] { ga, gb, gc, gd, ge, gf });
            Replace(ref outImage, Warped(outImage, more, size, InterpolationFlags.Linear, Scalar.Black));
            if (outMask != null)
            {
                Replace(ref outMask, Warped(outMask, more, size, InterpolationFlags.Nearest, Scalar.All(maskBorder)));
            }
        }

        Colour(outImage, o, rng);
        HeadLabel moved = Move(label, size, a, b, c, d, e, f, flip, theta, flipOrder ?? Conventions.KeypointFlip);
        return new Augmented(outImage, outMask, moved, flip);
    }

    /// <summary>A size x size canvas of <paramref name="border"/> with the whole source resized into <paramref name="placed"/>.</summary>
    private static Mat Fitted(Mat source, Rect placed, int size, InterpolationFlags interpolation, Scalar border)
    {
        var canvas = new Mat(size, size, source.Type(), border);
        using Mat into = canvas[placed];
        Cv2.Resize(source, into, placed.Size, 0, 0, interpolation);
        return canvas;
    }

    /// <summary>The source warped into size x size, <paramref name="border"/> beyond it.</summary>
    private static Mat Warped(Mat source, Mat affine, int size, InterpolationFlags interpolation, Scalar border)
    {
        var warped = new Mat();
        Cv2.WarpAffine(source, warped, affine, new Size(size, size), interpolation, BorderTypes.Constant, border);
        return warped;
    }

    private static void Replace(ref Mat image, Mat by)
    {
        image.Dispose();
        image = by;
    }

    /// <summary>The label after the affine warp (and flip, and in-plane rotation by theta, radians:
    /// the warp's own rotation). Dense landmarks move along; a flip drops them (their mirror order
    /// is not known here, and training reads only the six keypoints).</summary>
    internal static HeadLabel Move(HeadLabel l, int size, double a, double b, double c, double d, double e, double f, bool flip, double theta, int[] flipOrder)
    {
        (double X, double Y) P(double x, double y) => ((a * x) + (b * y) + c, (d * x) + (e * y) + f);

        double[]? center = null, centerNorm = null;
        if (l.Center is { } cc)
        {
            (double x, double y) = P(cc[0], cc[1]);
            center = [x, y];
            centerNorm = [(2 * x / size) - 1, (2 * y / size) - 1];
        }

        double[][]? keypoints = null;
        if (l.Keypoints is { } k)
        {
            keypoints = new double[k.Length][];
            for (int i = 0; i < k.Length; i++)
            {
                int source = flip && k.Length == flipOrder.Length ? flipOrder[i] : i;
                (double x, double y) = P(k[source][0], k[source][1]);
                bool inside = x >= 0 && y >= 0 && x < size && y < size;
                double visible = k[source].Length > 2 ? k[source][2] : 1;
                keypoints[i] = [x, y, inside ? visible : 0];
            }
        }

        double[]? box = null;
        if (l.Box is { } bx)
        {
            var corners = new[] { P(bx[0], bx[1]), P(bx[2], bx[1]), P(bx[0], bx[3]), P(bx[2], bx[3]) };
            box = [corners.Min(p => p.X), corners.Min(p => p.Y), corners.Max(p => p.X), corners.Max(p => p.Y)];
        }

        PoseLabel? pose = null;
        double[]? intrinsics = null;
        if (l.Pose is { } p)
        {
            // Image rotation by theta about the principal point = camera rotation Rz(theta); a
            // flip mirrors the x axis: R' = F R F.
            double[] r = Rotate(p.Rotation, theta);
            double[]? t = p.Translation is { } tt ? RotateVector(tt, theta) : null;
            if (flip)
            {
                r = [r[0], -r[1], -r[2], -r[3], r[4], r[5], -r[6], r[7], r[8]];
                t = t is null ? null : [-t[0], t[1], t[2]];
            }

            (double yaw, double pitch, double roll) = Rotation.ToEuler(r);
            pose = new PoseLabel(yaw, pitch, roll, r, t);
        }

        if (l.Intrinsics is { } kk)
        {
            // The warp scales evenly by sqrt|det| and carries the principal point along.
            double scale = Math.Sqrt(Math.Abs((a * e) - (b * d)));
            (double pcx, double pcy) = P(kk[2], kk[3]);
            intrinsics = [kk[0] * scale, kk[1] * scale, pcx, pcy];
        }

        double[][]? landmarks = null;
        if (l.Landmarks is { } lm && !flip)
        {
            double zScale = Math.Sqrt(Math.Abs((a * e) - (b * d)));
            landmarks = [.. lm.Select(q =>
            {
                (double x, double y) = P(q[0], q[1]);
                return new[] { Math.Round(x, 1), Math.Round(y, 1), Math.Round(q[2] * zScale, 1) };
            })];
        }

        return l with
        {
            Width = size,
            Height = size,
            Landmarks = landmarks,
            Center = center,
            CenterNorm = centerNorm,
            Keypoints = keypoints,
            Box = box,
            Pose = pose,
            Intrinsics = intrinsics,
        };
    }

    private static double[] Rotate(double[] r, double theta)
    {
        double c = Math.Cos(theta), s = Math.Sin(theta);
        return
        [
            (c * r[0]) - (s * r[3]), (c * r[1]) - (s * r[4]), (c * r[2]) - (s * r[5]),
            (s * r[0]) + (c * r[3]), (s * r[1]) + (c * r[4]), (s * r[2]) + (c * r[5]),
            r[6], r[7], r[8],
        ];
    }

    private static double[] RotateVector(double[] t, double theta)
    {
        double c = Math.Cos(theta), s = Math.Sin(theta);
        return [(c * t[0]) - (s * t[1]), (s * t[0]) + (c * t[1]), t[2]];
    }

    /// <summary>Brightness, contrast, saturation, blur and noise, in place.</summary>
    private static void Colour(Mat image, AugmentOptions o, Random rng)
    {
        double brightness = ((rng.NextDouble() * 2) - 1) * o.Brightness * 255;
        double contrast = 1 + (((rng.NextDouble() * 2) - 1) * o.Contrast);
        double saturation = 1 + (((rng.NextDouble() * 2) - 1) * o.Saturation);
        double noise = rng.NextDouble() * o.MaxNoise;
        bool blur = rng.NextDouble() < o.BlurProbability;
        if (brightness == 0 && contrast == 1 && saturation == 1 && noise == 0 && !blur)
        {
            return;
        }

        if (blur)
        {
            Cv2.GaussianBlur(image, image, new Size(0, 0), 0.5 + rng.NextDouble());
        }

        image.GetArray(out Vec3b[] px);
        for (int i = 0; i < px.Length; i++)
        {
            Vec3b v = px[i];
            double grey = (0.114 * v.Item0) + (0.587 * v.Item1) + (0.299 * v.Item2);
            px[i] = new Vec3b(
                Channel(v.Item0, grey, saturation, contrast, brightness, noise, rng),
                Channel(v.Item1, grey, saturation, contrast, brightness, noise, rng),
                Channel(v.Item2, grey, saturation, contrast, brightness, noise, rng));
        }

        image.SetArray(px);
    }

    private static byte Channel(byte value, double grey, double saturation, double contrast, double brightness, double noise, Random rng)
    {
        double v = grey + ((value - grey) * saturation);
        v = ((v - 128) * contrast) + 128 + brightness;
        if (noise > 0)
        {
            v += noise * (rng.NextDouble() - 0.5) * 3.46; // uniform with standard deviation `noise`
        }

        return v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5);
    }
}
