using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Data;
using OpenCvSharp;

namespace HeadTracking.Trainer.Synthesis;

/// <summary>Ranges the generator samples from.</summary>
internal sealed record SynthOptions
{
    public int Size { get; init; } = 128;

    public int Seed { get; init; }

    public double MaxYaw { get; init; } = 90;

    public double MaxPitch { get; init; } = 60;

    public double MaxRoll { get; init; } = 45;

    /// <summary>Face width (ear to ear) as a fraction of the image width.</summary>
    public double MinFaceFraction { get; init; } = 0.2;

    public double MaxFaceFraction { get; init; } = 0.6;

    /// <summary>How far from the frame's centre the head may be, as a fraction of the frame
    /// (0.5: anywhere the face still fits).</summary>
    public double MaxShift { get; init; } = 0.5;

    /// <summary>Share of samples with an occluder over the head.</summary>
    public double OcclusionProbability { get; init; } = 0.15;

    /// <summary>Share of samples drawn from held-out identities (labelled split "valid").</summary>
    public double ValidFraction { get; init; } = 0.1;

    /// <summary>Photos whose faces are held out for validation (by file name).</summary>
    public IReadOnlyCollection<string> ValidPhotos { get; init; } = ["sample6.jpg"];
}

/// <summary>One generated image: JPEG bytes as written, the decoded pixels, the head mask, the
/// part of every pixel (codes in <see cref="HeadSynthesizer.PartCodes"/> order), labels.</summary>
internal sealed record SynthSample(byte[] Jpeg, Mat Image, Mat Mask, Mat Parts, HeadLabel Label) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        Mask.Dispose();
        Parts.Dispose();
    }
}

/// <summary>The geometry of one rendered frame: the head's rotation (degrees), where its centre
/// projects (fractions of the image, 0..1), its face width as a fraction of the image, and the
/// camera's field of view (degrees; null: the sample's random one).</summary>
internal sealed record SynthScene(double Yaw, double Pitch, double Roll, double U, double V, double FaceFraction, double? FovDegrees);

/// <summary>
/// Renders heads with exact labels: a real face texture (unwrapped from a photo onto MediaPipe's
/// canonical mesh) on a procedural skull with hair and a neck, at a random 6-DoF pose, lit from a
/// random direction, over a real background photo, with optional occluder, blur, noise and JPEG
/// artefacts. Deterministic: sample i depends only on (seed, i). Thread-safe: each call makes its
/// own scratch buffers.
/// </summary>
internal sealed class HeadSynthesizer
{
    /// <summary>The skull's centre in the head frame (cm): the labelled head centre (<see cref="Conventions.HeadCentre"/>).</summary>
    public static readonly (float X, float Y, float Z) HeadCentre = Conventions.HeadCentre;

    /// <summary>What each value of <see cref="SynthSample.Parts"/> is: the segmentation classes
    /// the renderer knows exactly ("hair" is the skull: hair and scalp).</summary>
    public static readonly string[] PartCodes = ["background", "face", "hair", "neck", "occluder"];

    private const double MinDistance = 35;
    private const byte FaceId = 1, SkullId = 2, NeckId = 3, OccluderId = 255;
    private readonly Mesh _face, _skull, _neck;
    private readonly FaceIdentity[] _train, _valid;
    private readonly byte[][] _backgrounds;
    private readonly int[] _backgroundSizes;
    private readonly double[][] _keypoints;

    public HeadSynthesizer(Mesh face, IReadOnlyList<FaceIdentity> identities, IReadOnlyList<Mat> backgrounds, SynthOptions options)
    {
        Options = options;
        _face = face;
        // Head frame: x toward the left ear, y down, z back. The face mesh's forehead is near
        // y = -8, chin y = +9.4, nose tip z = -7.6, tragion z = +2.4.
        _skull = Mesh.Ellipsoid(HeadCentre, (7.6f, 10f, 9.3f), 32, 20);
        _neck = Mesh.Cylinder((0f, 0f, 0f), 4.6f, 22f, 24);
        _train = [.. identities.Where(i => !options.ValidPhotos.Contains(i.Id.Split('#')[0]))];
        _valid = [.. identities.Where(i => options.ValidPhotos.Contains(i.Id.Split('#')[0]))];
        if (_train.Length == 0)
        {
            throw new InvalidDataException("no face identities left for training after holding out " + string.Join(", ", options.ValidPhotos));
        }

        if (backgrounds.Count == 0)
        {
            throw new InvalidDataException("no background images");
        }

        // Each background kept at twice the output size on its short side, for random crops.
        int side = options.Size * 2;
        _backgrounds = new byte[backgrounds.Count][];
        _backgroundSizes = new int[backgrounds.Count * 2];
        for (int i = 0; i < backgrounds.Count; i++)
        {
            Mat bg = backgrounds[i];
            double scale = (double)side / Math.Min(bg.Width, bg.Height);
            using var resized = bg.Resize(new Size(Math.Max(side, (int)Math.Round(bg.Width * scale)), Math.Max(side, (int)Math.Round(bg.Height * scale))), 0, 0, InterpolationFlags.Area);
            _backgroundSizes[i * 2] = resized.Width;
            _backgroundSizes[(i * 2) + 1] = resized.Height;
            resized.GetArray(out Vec3b[] px);
            _backgrounds[i] = new byte[px.Length * 3];
            for (int p = 0; p < px.Length; p++)
            {
                _backgrounds[i][p * 3] = px[p].Item0;
                _backgrounds[i][(p * 3) + 1] = px[p].Item1;
                _backgrounds[i][(p * 3) + 2] = px[p].Item2;
            }
        }

        _keypoints = FaceIdentity.KeypointPositions(face);
    }

    public SynthOptions Options { get; }

    public int TrainIdentities => _train.Length;

    public int ValidIdentities => _valid.Length;

    /// <summary>Renders sample <paramref name="index"/>; its image file name is NNNNNN.jpg.</summary>
    /// <param name="index">Which sample: everything random about it follows from the seed and this.</param>
    /// <param name="fixedPose">Yaw, pitch, roll to use instead of random ones; the head is then
    /// centred, half the image wide, and never occluded (for tests and previews).</param>
    public SynthSample Generate(int index, (double Yaw, double Pitch, double Roll)? fixedPose = null) =>
        Generate(index, fixedPose is { } p ? new SynthScene(p.Yaw, p.Pitch, p.Roll, 0.5, 0.5, 0.5, null) : null);

    /// <summary>
    /// Renders sample <paramref name="index"/> with its geometry from <paramref name="scene"/>:
    /// the same index keeps the same face, background, light and camera noise whatever the scene,
    /// so consecutive scenes at one index make a video of one person moving. Never occluded.
    /// </summary>
    public SynthSample Generate(int index, SynthScene? scene)
    {
        // A stable mix of seed and index (HashCode.Combine differs between processes).
        var rng = new Random(unchecked((Options.Seed * 1_000_003) + (index * 7_919) + 0x5EED));
        int s = Options.Size;
        bool valid = _valid.Length > 0 && rng.NextDouble() < Options.ValidFraction;
        FaceIdentity identity = valid ? _valid[rng.Next(_valid.Length)] : _train[rng.Next(_train.Length)];

        // Pose: half the samples near frontal, half spread over the whole range.
        double yaw = Spread(rng, Options.MaxYaw), pitch = Spread(rng, Options.MaxPitch), roll = Spread(rng, Options.MaxRoll);
        if (scene != null)
        {
            (yaw, pitch, roll) = (scene.Yaw, scene.Pitch, scene.Roll);
        }

        double[] r = new double[9];
        Rotation.FromEuler(yaw, pitch, roll, r);

        double fov = (45 + (rng.NextDouble() * 30)) * Math.PI / 180;
        if (scene?.FovDegrees is { } sceneFov)
        {
            fov = sceneFov * Math.PI / 180;
        }

        double f = s / 2.0 / Math.Tan(fov / 2);
        double faceFraction = Options.MinFaceFraction + (rng.NextDouble() * (Options.MaxFaceFraction - Options.MinFaceFraction));
        double margin = Math.Max(0.3 * faceFraction * s, (0.5 - Options.MaxShift) * s);
        double u = margin + (rng.NextDouble() * (s - (2 * margin))), v = margin + (rng.NextDouble() * (s - (2 * margin)));
        if (scene != null)
        {
            (faceFraction, u, v) = (scene.FaceFraction, scene.U * s, scene.V * s);
        }

        // A webcam sees a head from 35 cm away or more: closer, perspective would stretch it
        // unlike any real frame. Big faces then come from a longer lens.
        double z = f * Conventions.FaceWidthCm / (faceFraction * s);
        if (z < MinDistance)
        {
            z = MinDistance;
            f = faceFraction * s * z / Conventions.FaceWidthCm;
        }

        var k = new Intrinsics(f, f, s / 2.0, s / 2.0);
        Placement pose = Place(r, k, u, v, z);
        // Keep the face box within 40% of a frame beyond each edge: a head may be cut off, not gone.
        for (int attempt = 0; attempt < 4; attempt++)
        {
            (double bx0, double by0, double bx1, double by1) = FaceBox(pose, k);
            double dx = Math.Max(0, (-0.4 * s) - bx0) - Math.Max(0, bx1 - (1.4 * s));
            double dy = Math.Max(0, (-0.4 * s) - by0) - Math.Max(0, by1 - (1.4 * s));
            if (dx == 0 && dy == 0)
            {
                break;
            }

            (u, v) = (u + (dx * 1.1), v + (dy * 1.1));
            pose = Place(r, k, u, v, z);
        }

        var raster = new Rasterizer(s, s);
        raster.Clear(Background(rng, s));
        double lx = (rng.NextDouble() * 2) - 1, ly = (rng.NextDouble() * 1.6) - 0.6, lz = 0.6 + rng.NextDouble();
        double ln = Math.Sqrt((lx * lx) + (ly * ly) + (lz * lz));
        raster.LightDirection = (lx / ln, ly / ln, lz / ln);
        raster.Ambient = 0.35 + (rng.NextDouble() * 0.3);
        raster.Diffuse = 0.45 + (rng.NextDouble() * 0.4);

        float gain = 0.8f + (0.4f * (float)rng.NextDouble());
        (float B, float G, float R) tint = (gain * (0.92f + (0.16f * (float)rng.NextDouble())), gain, gain * (0.92f + (0.16f * (float)rng.NextDouble())));
        (float B, float G, float R) skin = (identity.Skin.B * tint.B, identity.Skin.G * tint.G, identity.Skin.R * tint.R);
        (float B, float G, float R) hair = HairColour(rng);
        // The neck stays upright under the turning head: it hangs from the skull's base in camera
        // space, turned only by a third of the yaw.
        double[] neckR = new double[9];
        Rotation.FromEuler(yaw / 3, 0, 0, neckR);
        var neckTop = pose.Apply(0, 4, 6.5);
        var neckPose = new Placement(neckR, [neckTop.X, neckTop.Y, neckTop.Z]);
        raster.Draw(_neck, neckPose, k, new FlatMaterial((skin.B * 0.85f, skin.G * 0.85f, skin.R * 0.85f)), NeckId);
        // Hairline: bald (0.1) to long hair at the back (0.85); the front line near the forehead.
        var hairMaterial = new HairMaterial(hair, skin, 0.22f + (0.12f * (float)rng.NextDouble()), 0.45f + (0.4f * (float)rng.NextDouble()), rng.Next());
        raster.Draw(_skull, pose, k, hairMaterial, SkullId);
        raster.Draw(_face, pose, k, new AtlasMaterial(identity.Atlas, tint), FaceId);

        if (rng.NextDouble() < Options.OcclusionProbability && scene == null)
        {
            Occlude(raster, rng, FaceBox(pose, k));
        }

        HeadLabel label = Label(index, identity, valid, raster, pose, k, yaw, pitch, roll, r);
        var mask = new Mat(s, s, MatType.CV_8UC1);
        byte[] maskBytes = new byte[s * s];
        for (int i = 0; i < maskBytes.Length; i++)
        {
            maskBytes[i] = raster.Ids[i] is FaceId or SkullId ? (byte)255 : (byte)0;
        }

        mask.SetArray(maskBytes);
        var parts = new Mat(s, s, MatType.CV_8UC1);
        byte[] partBytes = new byte[s * s];
        for (int i = 0; i < partBytes.Length; i++)
        {
            partBytes[i] = raster.Ids[i] switch { FaceId => 1, SkullId => 2, NeckId => 3, OccluderId => 4, _ => 0 };
        }

        parts.SetArray(partBytes);
        using Mat degraded = Degrade(raster.Color, s, rng);
        int quality = 40 + rng.Next(56);
        Cv2.ImEncode(".jpg", degraded, out byte[] jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
        Mat decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
        return new SynthSample(jpeg, decoded, mask, parts, label);
    }

    private HeadLabel Label(int index, FaceIdentity identity, bool valid, Rasterizer raster, Placement pose, Intrinsics k,
        double yaw, double pitch, double roll, double[] r)
    {
        int s = Options.Size;
        var c = pose.Apply(HeadCentre.X, HeadCentre.Y, HeadCentre.Z);
        (double cx, double cy) = k.Project(c.X, c.Y, c.Z);

        var keypoints = new double[6][];
        for (int i = 0; i < 6; i++)
        {
            var p = pose.Apply(_keypoints[i][0], _keypoints[i][1], _keypoints[i][2]);
            (double x, double y) = k.Project(p.X, p.Y, p.Z);
            keypoints[i] = [x, y, Visible(raster, x, y, p.Z) ? 1 : 0];
        }

        (double mx0, double my0, double mx1, double my1) = FaceBox(pose, k);
        double[] box = TeacherBox(mx0, my0, mx1, my1);

        string name = $"{index:D6}";
        return new HeadLabel
        {
            Image = name + ".jpg",
            Width = s,
            Height = s,
            Source = "synthetic",
            Identity = identity.Id,
            Split = valid ? "valid" : "train",
            Center = [Round(cx), Round(cy)],
            CenterNorm = [Round((2 * cx / s) - 1), Round((2 * cy / s) - 1)],
            Keypoints = [.. keypoints.Select(p => new[] { Round(p[0]), Round(p[1]), p[2] })],
            Box = [.. box.Select(Round)],
            Pose = new PoseLabel(Round(yaw), Round(pitch), Round(roll), [.. r.Select(Round)], [.. pose.T.Select(Round)]),
            Intrinsics = [Round(k.Fx), Round(k.Fy), Round(k.Cx), Round(k.Cy)],
            Mask = name + "_mask.png",
        };
    }

    /// <summary>The head placed so its centre projects to (u, v) at depth z.</summary>
    private static Placement Place(double[] r, Intrinsics k, double u, double v, double z)
    {
        var rotated = new Placement(r, [0, 0, 0]).Rotate(HeadCentre.X, HeadCentre.Y, HeadCentre.Z);
        return new Placement(r, [((u - k.Cx) * z / k.Fx) - rotated.X, ((v - k.Cy) * z / k.Fy) - rotated.Y, z - rotated.Z]);
    }

    /// <summary>BlazeFace's box against the bounds of the mesh fitted to its keypoints, on the real
    /// sample photos (measured by TeacherBoxConventionTests: median shift x -0.04, y +0.03, size
    /// x1.10 wide, x1.00 high over 13 faces; the fit is noisy, and these rounded values give the
    /// best median IoU, 0.85): its centre shift as a fraction of the mesh box, and its size as a
    /// multiple.</summary>
    internal static readonly (double X, double Y, double Width, double Height) TeacherBoxFromMesh = (0, 0.03, 1.0, 1.0);

    /// <summary>The face box in the teacher's (BlazeFace's) convention, from the mesh bounds: what
    /// synthetic labels carry, so they and teacher labels train one box head.</summary>
    internal static double[] TeacherBox(double x0, double y0, double x1, double y1)
    {
        (double sx, double sy, double sw, double sh) = TeacherBoxFromMesh;
        double w = x1 - x0, h = y1 - y0;
        double cx = ((x0 + x1) / 2) + (sx * w), cy = ((y0 + y1) / 2) + (sy * h);
        return [cx - (sw * w / 2), cy - (sh * h / 2), cx + (sw * w / 2), cy + (sh * h / 2)];
    }

    /// <summary>Bounding box of the projected face mesh (forehead to chin, ear to ear).</summary>
    private (double X0, double Y0, double X1, double Y1) FaceBox(Placement pose, Intrinsics k)
    {
        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        for (int i = 0; i < _face.VertexCount; i++)
        {
            var p = pose.Apply(_face.Positions[i * 3], _face.Positions[(i * 3) + 1], _face.Positions[(i * 3) + 2]);
            (double x, double y) = k.Project(p.X, p.Y, p.Z);
            x0 = Math.Min(x0, x);
            y0 = Math.Min(y0, y);
            x1 = Math.Max(x1, x);
            y1 = Math.Max(y1, y);
        }

        return (x0, y0, x1, y1);
    }

    /// <summary>A keypoint is visible when it is in the frame and the nearest surface there is the
    /// head itself at the keypoint's depth (not the back of the head, an occluder or off-frame).</summary>
    private static bool Visible(Rasterizer raster, double x, double y, double z)
    {
        int ix = (int)x, iy = (int)y;
        if (ix < 0 || iy < 0 || ix >= raster.Width || iy >= raster.Height)
        {
            return false;
        }

        int i = (iy * raster.Width) + ix;
        return raster.Ids[i] is FaceId or SkullId && raster.Depth[i] > z - 1.0;
    }

    private static double Round(double v) => Math.Round(v, 4);

    private static double Spread(Random rng, double max) =>
        rng.NextDouble() < 0.5
            ? Math.Clamp(Gaussian(rng) * max / 3, -max, max)
            : ((rng.NextDouble() * 2) - 1) * max;

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static (float B, float G, float R) HairColour(Random rng)
    {
        (float B, float G, float R)[] palette =
        [
            (20, 22, 28), (25, 35, 55), (30, 50, 85), (40, 70, 120), (60, 110, 170), (150, 160, 170), (35, 40, 45), (20, 30, 40),
        ];
        var c = palette[rng.Next(palette.Length)];
        float g = 0.8f + (0.4f * (float)rng.NextDouble());
        return (c.B * g, c.G * g, c.R * g);
    }

    private byte[] Background(Random rng, int s)
    {
        int i = rng.Next(_backgrounds.Length);
        int w = _backgroundSizes[i * 2], h = _backgroundSizes[(i * 2) + 1];
        // A crop of 1 to 2 output sizes, resized to the output.
        int crop = s + rng.Next(Math.Min(w, h) - s + 1);
        int x0 = rng.Next(w - crop + 1), y0 = rng.Next(h - crop + 1);
        byte[] src = _backgrounds[i];
        byte[] dst = new byte[s * s * 3];
        double scale = (double)crop / s;
        bool mirror = rng.Next(2) == 0;
        for (int y = 0; y < s; y++)
        {
            for (int x = 0; x < s; x++)
            {
                double sx = x0 + ((mirror ? s - 1 - x + 0.5 : x + 0.5) * scale), sy = y0 + ((y + 0.5) * scale);
                FaceIdentity.Bilinear(src, w * 3, w, h, sx, sy, dst, ((y * s) + x) * 3);
            }
        }

        return dst;
    }

    /// <summary>A hand-sized blob of background texture over part of the head.</summary>
    private void Occlude(Rasterizer raster, Random rng, (double X0, double Y0, double X1, double Y1) face)
    {
        // Something in front of the head (a hand, a microphone, a cup): an ellipse of another
        // photo, centred within about half a face of the face's centre. Like face-parsing data
        // label a hand over a face, the whole object is the part "occluder", also where it sticks
        // out over the background (its outline against the scene photo gives it away).
        int s = raster.Width;
        byte[] patch = Background(rng, s);
        double w = face.X1 - face.X0;
        double cx = ((face.X0 + face.X1) / 2) + (w * (rng.NextDouble() - 0.5)), cy = ((face.Y0 + face.Y1) / 2) + (w * (rng.NextDouble() - 0.5));
        double rx = s * (0.1 + (0.15 * rng.NextDouble())), ry = s * (0.1 + (0.2 * rng.NextDouble()));
        for (int y = 0; y < s; y++)
        {
            for (int x = 0; x < s; x++)
            {
                double dx = (x - cx) / rx, dy = (y - cy) / ry;
                if ((dx * dx) + (dy * dy) <= 1)
                {
                    int i = (y * s) + x;
                    raster.Color[i * 3] = patch[i * 3];
                    raster.Color[(i * 3) + 1] = patch[(i * 3) + 1];
                    raster.Color[(i * 3) + 2] = patch[(i * 3) + 2];
                    raster.Ids[i] = OccluderId;
                    raster.Depth[i] = 0;
                }
            }
        }
    }

    /// <summary>Camera imperfections: contrast, brightness and sensor noise (from our own random
    /// stream, so a seed reproduces them), then sometimes blur.</summary>
    private static Mat Degrade(byte[] bgr, int size, Random rng)
    {
        double contrast = 0.8 + (0.4 * rng.NextDouble()), brightness = (rng.NextDouble() * 40) - 20;
        double sigma = rng.NextDouble() < 0.7 ? rng.NextDouble() * 6 : 0;
        for (int i = 0; i < bgr.Length; i++)
        {
            double v = (bgr[i] * contrast) + brightness + (sigma > 0 ? Gaussian(rng) * sigma : 0);
            bgr[i] = v <= 0 ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5);
        }

        Mat result;
        using (var view = Mat.FromPixelData(size, size, MatType.CV_8UC3, bgr))
        {
            result = view.Clone();
        }

        if (rng.NextDouble() < 0.35)
        {
            Cv2.GaussianBlur(result, result, new Size(0, 0), 0.5 + rng.NextDouble());
        }

        return result;
    }
}
