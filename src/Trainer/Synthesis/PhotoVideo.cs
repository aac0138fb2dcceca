using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using HeadTracking.Runtime.Detection;
using HeadTracking.Trainer.Data;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>How a photo is moved in frame <c>n</c> of a <see cref="PhotoVideo"/>: rolled by
/// <see cref="Roll"/> degrees (positive: clockwise on screen, the head tilting to its left) and
/// scaled by <see cref="Scale"/> about the face's centre, which is moved by (<see cref="Dx"/>,
/// <see cref="Dy"/>) pixels from its place in the first frame.</summary>
internal readonly record struct PhotoMotion(double Roll, double Scale, double Dx, double Dy)
{
    /// <summary>Frame <paramref name="frame"/> at <paramref name="fps"/>: still for the first
    /// <paramref name="stillFrames"/>, then rolling up to ±12 degrees, zooming ±15% and drifting
    /// ±12% (x) and ±6% (y) of the frame along smooth, incommensurate sines that start from rest.</summary>
    public static PhotoMotion At(int frame, double fps, int stillFrames, int width, int height)
    {
        double t = Math.Max(0, frame - stillFrames) / fps;
        double ease = Math.Min(1, t); // the first second of motion eases in from rest
        ease = ease * ease * (3 - (2 * ease));
        double Wave(double period) => ease * Math.Sin(2 * Math.PI * t / period);
        return new PhotoMotion(12 * Wave(5.3), 1 + (0.15 * Wave(7.1)), 0.12 * width * Wave(6.1), 0.06 * height * Wave(4.3));
    }
}

/// <summary>
/// A clip of a real photo moved along a known smooth path (<see cref="PhotoMotion"/>): the real
/// face that the demo shows when there is no camera, and the footage of the stability benchmark.
/// The photo is framed as a desk webcam frames its user (the face about a third of the frame
/// wide, a little above the middle) around the largest face BlazeFace finds in it; the truth of
/// each frame is the box and six keypoints BlazeFace finds in the still frame, carried through
/// that frame's transform, so it is exact relative to the first frame (roll, scale, translation)
/// and as good as the teacher in absolute terms. Yaw and pitch never change: a photo cannot turn.
/// </summary>
internal sealed class PhotoVideo : IDisposable
{
    /// <summary>The video's file name inside its folder.</summary>
    public const string VideoName = "video.avi";

    /// <summary>The per-frame motion file beside the video (one JSON line per frame).</summary>
    public const string MotionName = "motion.jsonl";

    private readonly Mat _photo;
    private readonly double[] _box = new double[4];
    private readonly double[] _keypoints = new double[FaceDetections.KeypointCount * 2];
    private readonly double _faceFraction;
    private double _baseScale, _faceX, _faceY;

    /// <exception cref="IOException">The photo cannot be read or shows no face; the message names it.</exception>
    public PhotoVideo(string photoPath, string detectorPath, int width = 640, int height = 480, double faceFraction = 1 / 3.0)
    {
        if (width < 32 || height < 32 || !(faceFraction is > 0.05 and <= 1))
        {
            throw new ArgumentException($"a photo clip needs a frame of at least 32x32 and a face fraction in (0.05, 1], got {width}x{height} and {faceFraction}");
        }

        using var detector = new BlazeFaceDetector(detectorPath);
        _photo = Cv2.ImRead(photoPath, ImreadModes.Color);
        if (_photo.Empty())
        {
            _photo.Dispose();
            throw new IOException($"{photoPath}: not a readable image");
        }

        var faces = new FaceDetections();
        detector.Detect(_photo, faces);
        if (faces.Count == 0)
        {
            _photo.Dispose();
            throw new IOException($"{photoPath}: BlazeFace finds no face in it");
        }

        int best = Enumerable.Range(0, faces.Count).MaxBy(i => faces.Boxes[(i * 4) + 2] - faces.Boxes[i * 4]);
        for (int k = 0; k < 4; k++)
        {
            _box[k] = faces.Boxes[(best * 4) + k];
        }

        // One user in front of the camera: everyone else in the photo is smudged past recognition
        // (never over the chosen face), so the clip tests tracking, not which face wins.
        for (int i = 0; i < faces.Count; i++)
        {
            if (i != best)
            {
                Blur(faces.Boxes.AsSpan(i * 4, 4));
            }
        }

        Width = width;
        Height = height;
        Photo = Path.GetFileName(photoPath);
        _faceFraction = faceFraction;

        // Shrink the photo once (area-averaged) to a little above the largest scale the motion asks
        // for, so the per-frame warp (bilinear) never has to shrink much and never aliases.
        double shrink = Math.Min(1, faceFraction * width / (_box[2] - _box[0]) * 1.5);
        if (shrink < 1)
        {
            using Mat full = _photo;
            _photo = full.Resize(new Size((int)Math.Round(full.Width * shrink), (int)Math.Round(full.Height * shrink)), 0, 0, InterpolationFlags.Area);
            for (int k = 0; k < 4; k++)
            {
                _box[k] *= shrink;
            }
        }

        // In a whole group photo the face is a few pixels of BlazeFace's 128x128 input, and its box
        // is rough. Frame it, then let the teacher look again at the frame as a webcam would give
        // it, and frame the face by that box: the truth is what the teacher sees in frame 0.
        Frame();
        using var first = new Mat();
        Render(new PhotoMotion(0, 1, 0, 0), first);
        detector.Detect(first, faces);
        (double hx, double hy) = Home;
        int near = -1;
        double nearest = double.MaxValue;
        for (int i = 0; i < faces.Count; i++)
        {
            double d = Math.Abs(((faces.Boxes[i * 4] + faces.Boxes[(i * 4) + 2]) / 2) - hx) + Math.Abs(((faces.Boxes[(i * 4) + 1] + faces.Boxes[(i * 4) + 3]) / 2) - hy);
            if (d < nearest)
            {
                (near, nearest) = (i, d);
            }
        }

        if (near < 0)
        {
            _photo.Dispose();
            throw new IOException($"{photoPath}: BlazeFace loses the face once it is framed at {width}x{height}");
        }

        // Frame 0 is the photo scaled by _baseScale and shifted: undo that for the new box and keypoints.
        double[] t = Transform(new PhotoMotion(0, 1, 0, 0));
        for (int k = 0; k < 4; k++)
        {
            _box[k] = (faces.Boxes[(near * 4) + k] - t[k % 2 == 0 ? 2 : 5]) / t[0];
        }

        for (int k = 0; k < _keypoints.Length; k++)
        {
            _keypoints[k] = (faces.Keypoints[(near * _keypoints.Length) + k] - t[k % 2 == 0 ? 2 : 5]) / t[0];
        }

        Frame();
    }

    /// <summary>Scale and centre of the framing from the face's box.</summary>
    private void Frame()
    {
        _baseScale = _faceFraction * Width / (_box[2] - _box[0]);
        _faceX = (_box[0] + _box[2]) / 2;
        _faceY = (_box[1] + _box[3]) / 2;
    }

    public int Width { get; }

    private void Blur(ReadOnlySpan<float> box)
    {
        double w = box[2] - box[0], h = box[3] - box[1];
        var r = new Rect((int)(box[0] - (0.3 * w)), (int)(box[1] - (0.3 * h)), (int)(1.6 * w), (int)(1.6 * h));
        r = r.Intersect(new Rect(0, 0, _photo.Width, _photo.Height));

        // Keep clear of the chosen face (its box grown by a tenth): trim the side that overlaps it.
        var keep = new Rect((int)(_box[0] - (0.1 * (_box[2] - _box[0]))), (int)(_box[1] - (0.1 * (_box[3] - _box[1]))), (int)(1.2 * (_box[2] - _box[0])), (int)(1.2 * (_box[3] - _box[1])));
        if (r.IntersectsWith(keep))
        {
            var options = new[]
            {
                new Rect(r.X, r.Y, Math.Max(0, keep.X - r.X), r.Height), // left of it
                new Rect(keep.Right, r.Y, Math.Max(0, r.Right - keep.Right), r.Height), // right of it
                new Rect(r.X, r.Y, r.Width, Math.Max(0, keep.Y - r.Y)), // above it
                new Rect(r.X, keep.Bottom, r.Width, Math.Max(0, r.Bottom - keep.Bottom)), // below it
            };
            r = options.MaxBy(o => o.Width * o.Height);
        }

        if (r.Width < 2 || r.Height < 2)
        {
            return;
        }

        // Down to 3x3 and smoothly back up: a soft smudge of the region's colours, with no eyes,
        // nose or mouth left for a detector to find.
        using Mat region = _photo[r];
        using Mat tiny = region.Resize(new Size(3, 3), 0, 0, InterpolationFlags.Area);
        using Mat smudge = tiny.Resize(new Size(r.Width, r.Height), 0, 0, InterpolationFlags.Linear);
        Cv2.GaussianBlur(smudge, region, new Size(0, 0), Math.Max(r.Width, r.Height) / 12.0);
    }

    public int Height { get; }

    /// <summary>The photo's file name (its identity in the truth).</summary>
    public string Photo { get; }

    /// <summary>Where the face's centre sits in a frame before any motion.</summary>
    public (double X, double Y) Home => (Width / 2.0, Height * 0.45);

    /// <summary>Photo to frame for <paramref name="m"/>: a 2x3 similarity.</summary>
    public double[] Transform(PhotoMotion m)
    {
        double s = _baseScale * m.Scale, a = m.Roll * Math.PI / 180;
        double c = s * Math.Cos(a), n = s * Math.Sin(a);
        (double hx, double hy) = Home;
        double tx = hx + m.Dx - ((c * _faceX) - (n * _faceY)), ty = hy + m.Dy - ((n * _faceX) + (c * _faceY));
        return [c, -n, tx, n, c, ty];
    }

    /// <summary>Draws the frame for <paramref name="m"/> into <paramref name="into"/> (BGR,
    /// <see cref="Width"/> x <see cref="Height"/>); what lies outside the photo repeats its edge.</summary>
    public void Render(PhotoMotion m, Mat into)
    {
        double[] t = Transform(m);
        using var matrix = Mat.FromPixelData(2, 3, MatType.CV_64FC1, t);
        Cv2.WarpAffine(_photo, into, matrix, new Size(Width, Height), InterpolationFlags.Linear, BorderTypes.Replicate);
    }

    /// <summary>The truth of the frame for <paramref name="m"/>: the teacher's box (the square of the
    /// same area, centred where the face's centre goes) and keypoints carried through the transform.</summary>
    public HeadLabel Truth(PhotoMotion m, string image)
    {
        double[] t = Transform(m);
        (double X, double Y) Map(double x, double y) => ((t[0] * x) + (t[1] * y) + t[2], (t[3] * x) + (t[4] * y) + t[5]);
        (double cx, double cy) = Map(_faceX, _faceY);
        double half = (_box[2] - _box[0]) * _baseScale * m.Scale / 2;
        var keypoints = new double[FaceDetections.KeypointCount][];
        for (int k = 0; k < keypoints.Length; k++)
        {
            (double x, double y) = Map(_keypoints[2 * k], _keypoints[(2 * k) + 1]);
            keypoints[k] = [x, y, 1];
        }

        return new HeadLabel
        {
            Image = image,
            Width = Width,
            Height = Height,
            Source = "photo",
            Identity = Photo,
            Split = "valid",
            Center = [cx, cy],
            CenterNorm = [(2 * cx / Width) - 1, (2 * cy / Height) - 1],
            Box = [cx - half, cy - half, cx + half, cy + half],
            Keypoints = keypoints,
        };
    }

    /// <summary>Writes <paramref name="frames"/> frames as an MJPG video, its truth
    /// (<see cref="LabelsFile.FileName"/>) and its motion (<see cref="MotionName"/>) into the folder
    /// <paramref name="outDir"/> (built aside, renamed into place).</summary>
    public void Write(string outDir, int frames, double fps, int stillFrames, TextWriter log)
    {
        var clock = Stopwatch.StartNew();
        AtomicDirectory.Write(outDir, temp =>
        {
            var labels = new HeadLabel[frames];
            var motion = new StringBuilder();
            using (var writer = new VideoWriter(Path.Combine(temp, VideoName), FourCC.MJPG, fps, new Size(Width, Height)))
            {
                if (!writer.IsOpened())
                {
                    throw new IOException($"{Path.Combine(outDir, VideoName)}: OpenCV cannot write an MJPG video here");
                }

                using var frame = new Mat();
                for (int i = 0; i < frames; i++)
                {
                    PhotoMotion m = PhotoMotion.At(i, fps, stillFrames, Width, Height);
                    Render(m, frame);
                    writer.Write(frame);
                    labels[i] = Truth(m, $"{VideoName}#{i:D6}");
                    motion.Append(CultureInfo.InvariantCulture, $"{{\"frame\":{i},\"roll\":{m.Roll:R},\"scale\":{m.Scale:R},\"dx\":{m.Dx:R},\"dy\":{m.Dy:R}}}\n");
                }
            }

            LabelsFile.Write(Path.Combine(temp, LabelsFile.FileName), labels);
            File.WriteAllText(Path.Combine(temp, MotionName), motion.ToString());
            return 0;
        });
        log.WriteLine($"Wrote {frames} frames of {Photo} ({frames / fps:F1} s at {fps:F0} fps, {Width}x{Height}, still for {stillFrames}) with their truth to {Path.GetFullPath(outDir)} in {clock.Elapsed.TotalSeconds:F1} s");
    }

    public void Dispose() => _photo.Dispose();
}
