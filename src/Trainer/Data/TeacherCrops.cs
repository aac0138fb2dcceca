using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Detection;
using OpenCvSharp;

namespace HeadTracking.Trainer.Data;

/// <summary>What <see cref="TeacherCrops"/> makes: crops per face, their size and how they vary.</summary>
internal sealed record TeacherCropOptions
{
    /// <summary>Crops made around each face found in the photos (some are dropped, see Run).</summary>
    public int PerFace { get; init; } = 200;

    /// <summary>Side of the square crops in pixels.</summary>
    public int Size { get; init; } = 128;

    public int Seed { get; init; }

    /// <summary>Face width as a fraction of the crop: smallest and largest.</summary>
    public double MinFace { get; init; } = 0.25;

    public double MaxFace { get; init; } = 0.6;

    /// <summary>Largest shift of the face centre from the crop centre, as a fraction of the crop.</summary>
    public double MaxShift { get; init; } = 0.25;

    /// <summary>Largest in-plane rotation of the crop, in degrees.</summary>
    public double MaxRotation { get; init; } = 25;

    /// <summary>Photos whose faces go to the "valid" split (file names), so validation holds out people.</summary>
    public IReadOnlyCollection<string> ValidImages { get; init; } = ["sample6.jpg"];

    /// <summary>Smallest teacher score for a face, in the photo and in its crops.</summary>
    public float MinScore { get; init; } = 0.6f;

    /// <summary>With the dense teacher: faces whose pose it cannot reproduce on the mirror image
    /// within this many degrees are left out.</summary>
    public double MaxDisagreement { get; init; } = 10;

    /// <summary>Tighter framings tried, after the first, when a crop holds a second face (0: the crop is dropped).</summary>
    public int TighterRetries { get; init; } = 2;

    /// <summary>Face width, as a fraction of the crop, of the tightest framing.</summary>
    public double TightFace { get; init; } = 0.75;

    /// <summary>Smallest face, in photo pixels, to crop around (smaller ones would be upsampled blur).</summary>
    public int MinFacePixels { get; init; } = 40;
}

/// <summary>
/// Real training images from a handful of photos: for each face the BlazeFace teacher finds, many
/// square crops at random scale, position and tilt, with webcam-like JPEG quality, each labelled
/// by the teacher run again on the crop itself (so the labels are the teacher's on exactly that
/// image, in its box and keypoint convention). A crop is kept only when the teacher finds the face
/// it was made around, confidently, and no second face (a crop that holds one is framed tighter
/// and tried again). Faces of <see cref="TeacherCropOptions.ValidImages"/>
/// are split "valid". Deterministic for a seed; the folder is written atomically.
/// </summary>
internal sealed class TeacherCrops(BlazeFaceDetector detector, TeacherCropOptions options, Teachers.FaceMeshTeacher? dense = null)
{
    private static readonly string[] s_imageExtensions = [".jpg", ".jpeg", ".png", ".bmp"];

    /// <summary>Counts of one run.</summary>
    /// <param name="Unsure">Faces the dense teacher was unsure of (no pose, or a mirror disagreement above the limit), left out.</param>
    public sealed record Summary(int Photos, int Faces, int ValidFaces, int Written, int ValidWritten, int Dropped, int Unsure = 0);

    /// <summary>Crops every face in <paramref name="inputs"/> (image files or folders of them) into <paramref name="outDir"/>.</summary>
    /// <exception cref="FileNotFoundException">An input does not exist.</exception>
    /// <exception cref="InvalidDataException">An input image cannot be decoded.</exception>
    public Summary Run(IReadOnlyList<string> inputs, string outDir)
    {
        var photos = new List<string>();
        foreach (string input in inputs)
        {
            if (Directory.Exists(input))
            {
                photos.AddRange(Directory.GetFiles(input).Where(f => s_imageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(input))
            {
                photos.Add(input);
            }
            else
            {
                throw new FileNotFoundException($"--input: {input} is neither an image nor a folder", input);
            }
        }

        return AtomicDirectory.Write(outDir, temp =>
        {
            var labels = new List<HeadLabel>();
            int faces = 0, validFaces = 0, dropped = 0, unsure = 0;
            var found = new FaceDetections();
            foreach (string photo in photos)
            {
                using Mat image = Cv2.ImRead(photo, ImreadModes.Color);
                if (image.Empty())
                {
                    throw new InvalidDataException($"{photo}: not an image OpenCV can decode");
                }

                string name = Path.GetFileName(photo);
                bool valid = options.ValidImages.Contains(name, StringComparer.OrdinalIgnoreCase);
                detector.Detect(image, found);
                float[] boxes = [.. found.Boxes.Take(found.Count * 4)];
                float[] scores = [.. found.Scores.Take(found.Count)];
                for (int f = 0; f < scores.Length; f++)
                {
                    float w = boxes[(f * 4) + 2] - boxes[f * 4];
                    if (scores[f] < options.MinScore || w < options.MinFacePixels)
                    {
                        continue;
                    }

                    string identity = $"{name}#{f}";
                    HeadLabel? photoLabel = null;
                    if (dense != null)
                    {
                        // The dense teacher labels the face once, at the photo's resolution; each
                        // crop carries that label through its own warp (a camera roll and zoom).
                        double[] box = [.. boxes.AsSpan(f * 4, 4).ToArray().Select(v => (double)v)];
                        Teachers.FaceMeshResult? mesh = dense.Label(image, box);
                        if (mesh == null || !(mesh.MirrorDisagreement <= options.MaxDisagreement))
                        {
                            unsure++;
                            continue;
                        }

                        photoLabel = dense.ToLabel(new HeadLabel { Image = name, Identity = identity, Box = box }, mesh, image.Width, image.Height);
                    }

                    faces++;
                    validFaces += valid ? 1 : 0;
                    for (int c = 0; c < options.PerFace; c++)
                    {
                        HeadLabel? label = Crop(image, boxes.AsSpan(f * 4, 4), identity, valid, c, temp, found, photoLabel);
                        if (label == null)
                        {
                            dropped++;
                        }
                        else
                        {
                            labels.Add(label);
                        }
                    }
                }
            }

            LabelsFile.Write(Path.Combine(temp, LabelsFile.FileName), labels);
            int validWritten = labels.Count(l => l.Split == "valid");
            return new Summary(photos.Count, faces, validFaces, labels.Count, validWritten, dropped, unsure);
        });
    }

    private HeadLabel? Crop(Mat image, ReadOnlySpan<float> face, string identity, bool valid, int index, string outDir, FaceDetections found, HeadLabel? photoLabel)
    {
        var rng = new Random(unchecked((options.Seed * 1_000_003) + (StableHash(identity) * 7_919) + index));
        int s = options.Size;
        double faceW = face[2] - face[0];
        double fraction = options.MinFace + (rng.NextDouble() * (options.MaxFace - options.MinFace));
        double angle = ((rng.NextDouble() * 2) - 1) * options.MaxRotation;
        double shiftX = ((rng.NextDouble() * 2) - 1) * options.MaxShift * s, shiftY = ((rng.NextDouble() * 2) - 1) * options.MaxShift * s;
        double cx = (face[0] + face[2]) / 2, cy = (face[1] + face[3]) / 2;
        int quality = 55 + rng.Next(41);

        // In a group photo a wide crop often holds a neighbour's face too; rather than lose the
        // crop, frame the face tighter (up to TightFace of the crop, shifted less) and try again;
        // the first framing is the same with or without retries.
        for (int attempt = 0; attempt <= options.TighterRetries; attempt++)
        {
            double t = attempt == 0 ? 0 : (double)attempt / options.TighterRetries;
            double frameFraction = fraction + ((Math.Max(options.MaxFace, options.TightFace) - fraction) * t);
            double scale = frameFraction * s / faceW, shift = 1 - (t / 2);

            // Photo -> crop: rotate and scale about the face centre, which lands at the crop centre plus the shift.
            double a = angle * Math.PI / 180, cos = Math.Cos(a) * scale, sin = Math.Sin(a) * scale;
            double tx = (s / 2.0) + (shiftX * shift) - ((cos * cx) - (sin * cy)), ty = (s / 2.0) + (shiftY * shift) - ((sin * cx) + (cos * cy));
            using var m = Mat.FromPixelData(2, 3, MatType.CV_64FC1, new[] { cos, -sin, tx, sin, cos, ty });
            using var crop = new Mat();
            Cv2.WarpAffine(image, crop, m, new Size(s, s), scale < 1 ? InterpolationFlags.Area : InterpolationFlags.Linear, BorderTypes.Replicate);

            // Webcam-like compression; the teacher labels the image as it is stored.
            Cv2.ImEncode(".jpg", crop, out byte[] jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
            using Mat stored = Cv2.ImDecode(jpeg, ImreadModes.Color);

            // Where the photo's face box went (its corners' bounds), to match the teacher's finding.
            double[] expected = TransformedBounds(face, cos, sin, tx, ty);
            detector.Detect(stored, found);
            int best = -1;
            double bestIou = 0.4;
            for (int d = 0; d < found.Count; d++)
            {
                double iou = Iou(found.Boxes.AsSpan(d * 4, 4), expected);
                if (iou > bestIou)
                {
                    (best, bestIou) = (d, iou);
                }
            }

            if (best < 0 || found.Scores[best] < options.MinScore)
            {
                return null;
            }

            bool secondFace = false;
            for (int d = 0; d < found.Count && !secondFace; d++)
            {
                secondFace = d != best && found.Scores[d] >= 0.5f && Iou(found.Boxes.AsSpan(d * 4, 4), found.Boxes.AsSpan(best * 4, 4)) < 0.3;
            }

            if (!secondFace)
            {
                return Labelled(jpeg, identity, valid, index, outDir, found, best, photoLabel, cos, sin, tx, ty, a);
            }
        }

        return null; // a second face in every framing: one head per image is what the model learns
    }

    private HeadLabel Labelled(byte[] jpeg, string identity, bool valid, int index, string outDir, FaceDetections found, int best, HeadLabel? photoLabel, double cos, double sin, double tx, double ty, double a)
    {
        int s = options.Size;
        string file = $"{identity.Replace('#', '_').Replace('.', '_')}_{index:D4}.jpg";
        File.WriteAllBytes(Path.Combine(outDir, file), jpeg);
        if (photoLabel != null)
        {
            HeadLabel moved = Augment.Move(photoLabel, s, cos, -sin, tx, sin, cos, ty, flip: false, a, Conventions.KeypointFlip);
            PoseLabel p = moved.Pose!;
            return moved with
            {
                Center = [.. moved.Center!.Select(v => Math.Round(v, 2))],
                CenterNorm = [.. moved.CenterNorm!.Select(v => Math.Round(v, 5))],
                Keypoints = [.. moved.Keypoints!.Select(k => new[] { Math.Round(k[0], 2), Math.Round(k[1], 2), k[2] })],
                Pose = new PoseLabel(Math.Round(p.Yaw, 3), Math.Round(p.Pitch, 3), Math.Round(p.Roll, 3), [.. p.Rotation.Select(v => Math.Round(v, 6))], p.Translation is { } t ? [.. t.Select(v => Math.Round(v, 3))] : null),
                Intrinsics = [.. moved.Intrinsics!.Select(v => Math.Round(v, 3))],
                Image = file,
                Split = valid ? "valid" : "train",
                Box = [.. found.Boxes.Skip(best * 4).Take(4).Select(v => Math.Round((double)v, 2))],
                Score = Math.Round((double)found.Scores[best], 4),
            };
        }

        return new HeadLabel
        {
            Image = file,
            Width = s,
            Height = s,
            Source = "teacher",
            Identity = identity,
            Split = valid ? "valid" : "train",
            Box = [.. found.Boxes.Skip(best * 4).Take(4).Select(v => Math.Round((double)v, 2))],
            Keypoints = [.. Enumerable.Range(0, FaceDetections.KeypointCount).Select(k =>
            {
                double x = found.Keypoints[(best * 12) + (k * 2)], y = found.Keypoints[(best * 12) + (k * 2) + 1];
                return new[] { Math.Round(x, 2), Math.Round(y, 2), x >= 0 && y >= 0 && x < s && y < s ? 1.0 : 0.0 };
            })],
            Score = Math.Round((double)found.Scores[best], 4),
        };
    }

    private static double[] TransformedBounds(ReadOnlySpan<float> box, double cos, double sin, double tx, double ty)
    {
        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        foreach ((double px, double py) in new[] { (box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3]) })
        {
            double x = (cos * px) - (sin * py) + tx, y = (sin * px) + (cos * py) + ty;
            (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x), Math.Max(y1, y));
        }

        return [x0, y0, x1, y1];
    }

    private static double Iou(ReadOnlySpan<float> a, ReadOnlySpan<double> b)
    {
        Span<float> bf = [(float)b[0], (float)b[1], (float)b[2], (float)b[3]];
        return Iou(a, (ReadOnlySpan<float>)bf);
    }

    private static double Iou(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Models.Heads.Kinds.BoxKind.Iou(a, b);

    /// <summary>FNV-1a: the same in every process (string.GetHashCode is not).</summary>
    private static int StableHash(string text)
    {
        uint h = 2_166_136_261;
        foreach (char ch in text)
        {
            h = (h ^ ch) * 16_777_619;
        }

        return (int)(h & 0x7fff_ffff);
    }
}
