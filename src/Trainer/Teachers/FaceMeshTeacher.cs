using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Pose;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Onnx;
using HeadTracking.Trainer.Synthesis;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OpenCvSharp;

namespace HeadTracking.Trainer.Teachers;

/// <summary>What the dense teacher says about one face.</summary>
/// <param name="Landmarks">468 points (x, y in image pixels, z in pixels at the face's scale,
/// toward the camera negative), in MediaPipe's face-mesh order.</param>
/// <param name="Score">The mesh model's face-presence probability on its final crop.</param>
/// <param name="Rotation">Head rotation fitted to the landmarks, row-major (Runtime.Pose.Rotation's convention).</param>
/// <param name="Translation">The head frame's origin in camera coordinates, cm.</param>
/// <param name="RmsPixels">RMS distance between the landmarks and the fitted canonical mesh's projection.</param>
internal sealed record FaceMeshResult(float[] Landmarks, float Score, double[] Rotation, double[] Translation, double RmsPixels)
{
    /// <summary>Degrees between this pose and the one found on the mirror image, mirrored back: a
    /// label's own error bar (median 0.8 on the sample photos' faces; faces turned 50 degrees away reach 20+).</summary>
    public double MirrorDisagreement { get; init; }

    public (double Yaw, double Pitch, double Roll) Euler => Runtime.Pose.Rotation.ToEuler(Rotation.AsSpan());

    /// <summary>BlazeFace's six keypoints (the runtime's order) from the dense landmarks, at the
    /// mesh vertices the synthetic data labels them on.</summary>
    public double[][] SixKeypoints() =>
        [.. FaceIdentity.KeypointVertices.Select(vs => new[] { vs.Average(v => (double)Landmarks[v * 3]), vs.Average(v => (double)Landmarks[(v * 3) + 1]) })];
}

/// <summary>
/// The dense real-face teacher: MediaPipe's Face Mesh (468 landmarks; the TF.js graph model read by
/// our importer and run in ONNX Runtime), on a crop around a BlazeFace detection, then a head pose by
/// fitting MediaPipe's canonical face mesh to all 468 landmarks (our Levenberg-Marquardt).
/// Crops follow MediaPipe's face pipeline: a square 1.5 times the box's long side, 192x192, RGB in
/// [0, 1]; two more passes re-crop on the landmarks before (their bounding box in the frame where
/// the eyes are level, 1.5 times, turned with the eyes), as MediaPipe's tracking does.
/// Not thread-safe.
/// </summary>
internal sealed class FaceMeshTeacher : IDisposable
{
    public const int LandmarkCount = 468;

    /// <summary>The field of view assumed for photos, whose camera is unknown (the runtime's default).</summary>
    public const double DefaultFovDegrees = 60;

    private const int Size = 192;
    private const double RoiScale = 1.5;
    private const int RefinePasses = 2;
    private static readonly double[] s_startAngles = [0, -30, 30];
    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly KeypointPose _pose;
    private readonly Mesh _mesh;
    private readonly float[] _pixels = new float[Size * Size * 3];

    /// <param name="modelJson">MediaPipe Face Mesh as a TF.js graph model (external/face-landmarks/facemesh.json).</param>
    /// <param name="canonicalMesh">MediaPipe's canonical face geometry (external/facemesh/geometry_pipeline_metadata_landmarks.binarypb).</param>
    public FaceMeshTeacher(string modelJson, string canonicalMesh)
    {
        using (var net = TfjsGraphNet.Load(modelJson))
        {
            net.eval();
            if (!net.InputShape.Skip(1).SequenceEqual([Size, Size, 3L]) || !net.OutputNames.Contains("output_mesh") || !net.OutputNames.Contains("output_faceflag"))
            {
                throw new InvalidDataException($"{modelJson}: not MediaPipe Face Mesh (want input [-1, 192, 192, 3] and outputs output_mesh, output_faceflag; got [{string.Join(", ", net.InputShape)}] and {string.Join(", ", net.OutputNames)})");
            }

            byte[] onnx = OnnxExporter.Build(net, net.InputShape, net.OutputNames, new OnnxExportOptions()).ToByteArray();
            using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
            _session = new InferenceSession(onnx, options);
        }

        _input = _session.InputMetadata.Keys.Single();
        _mesh = Mesh.LoadCanonicalFace(canonicalMesh);
        _pose = KeypointPose.ForPoints([.. Enumerable.Range(0, LandmarkCount).Select(i => new Point3f(_mesh.Positions[i * 3], _mesh.Positions[(i * 3) + 1], _mesh.Positions[(i * 3) + 2]))]);
    }

    /// <summary>Landmarks and pose of the face that BlazeFace found at <paramref name="box"/> (x0, y0,
    /// x1, y1, image pixels), checked against the mirror image: the same face mirrored must give
    /// the mirrored pose (<see cref="FaceMeshResult.MirrorDisagreement"/>, degrees).</summary>
    /// <returns>Null when a pose fit fails (no plausible solution).</returns>
    public FaceMeshResult? Label(Mat bgr, ReadOnlySpan<double> box, double fovDegrees = DefaultFovDegrees)
    {
        FaceMeshResult? result = Once(bgr, box, fovDegrees);
        if (result == null)
        {
            return null;
        }

        using Mat flipped = bgr.Flip(FlipMode.Y);
        FaceMeshResult? mirrored = Once(flipped, [bgr.Width - box[2], box[1], bgr.Width - box[0], box[3]], fovDegrees);
        if (mirrored == null)
        {
            return null;
        }

        // Mirroring the image maps R to M·R·M with M = diag(-1, 1, 1): entries that mix x with
        // y or z change sign.
        double[] back = [.. mirrored.Rotation.Select((v, i) => (i / 3 == 0) != (i % 3 == 0) ? -v : v)];
        return result with { MirrorDisagreement = AngleBetween(result.Rotation, back) };
    }

    /// <summary>
    /// <paramref name="label"/> (an image <paramref name="width"/> x <paramref name="height"/>, its
    /// box from BlazeFace) completed from the dense teacher: the six keypoints at the mesh vertices
    /// the synthetic data uses (visible where the fitted mesh faces the camera there), the head
    /// centre projected from the fitted pose, the pose, the camera assumed for the fit, and the 468
    /// landmarks. Source "teacher".
    /// </summary>
    public HeadLabel ToLabel(HeadLabel label, FaceMeshResult m, int width, int height, double fovDegrees = DefaultFovDegrees)
    {
        double f = Conventions.FocalPixels(width, fovDegrees), cx = width / 2.0, cy = height / 2.0;
        double[] r = m.Rotation, t = m.Translation;
        (double X, double Y, double Z) Camera(double x, double y, double z) =>
            ((r[0] * x) + (r[1] * y) + (r[2] * z) + t[0], (r[3] * x) + (r[4] * y) + (r[5] * z) + t[1], (r[6] * x) + (r[7] * y) + (r[8] * z) + t[2]);
        bool Facing(int v)
        {
            float[] n = _mesh.Normals, p = _mesh.Positions;
            (double px, double py, double pz) = Camera(p[v * 3], p[(v * 3) + 1], p[(v * 3) + 2]);
            double nx = (r[0] * n[v * 3]) + (r[1] * n[(v * 3) + 1]) + (r[2] * n[(v * 3) + 2]);
            double ny = (r[3] * n[v * 3]) + (r[4] * n[(v * 3) + 1]) + (r[5] * n[(v * 3) + 2]);
            double nz = (r[6] * n[v * 3]) + (r[7] * n[(v * 3) + 1]) + (r[8] * n[(v * 3) + 2]);
            return (nx * px) + (ny * py) + (nz * pz) < 0;
        }

        double[][] six = m.SixKeypoints();
        double[][] keypoints = [.. six.Select((k, i) => new[] { Math.Round(k[0], 2), Math.Round(k[1], 2), FaceIdentity.KeypointVertices[i].All(Facing) ? 1.0 : 0.0 })];
        Point3f hc = KeypointPose.HeadCentre;
        (double hx, double hy, double hz) = Camera(hc.X, hc.Y, hc.Z);
        double u = (f * hx / hz) + cx, v = (f * hy / hz) + cy;
        (double yaw, double pitch, double roll) = m.Euler;
        return label with
        {
            Width = width,
            Height = height,
            Source = "teacher",
            Keypoints = keypoints,
            Center = [Math.Round(u, 2), Math.Round(v, 2)],
            CenterNorm = [Math.Round((2 * u / width) - 1, 5), Math.Round((2 * v / height) - 1, 5)],
            Pose = new PoseLabel(Math.Round(yaw, 3), Math.Round(pitch, 3), Math.Round(roll, 3), [.. r.Select(x => Math.Round(x, 6))], [.. t.Select(x => Math.Round(x, 3))]),
            Intrinsics = [Math.Round(f, 3), Math.Round(f, 3), cx, cy],
            Landmarks = [.. Enumerable.Range(0, LandmarkCount).Select(i => new[] { Math.Round((double)m.Landmarks[i * 3], 1), Math.Round((double)m.Landmarks[(i * 3) + 1], 1), Math.Round((double)m.Landmarks[(i * 3) + 2], 1) })],
            TeacherDisagreement = Math.Round(m.MirrorDisagreement, 2),
        };
    }

    /// <summary>The angle in degrees of the rotation that takes one rotation matrix to another.</summary>
    public static double AngleBetween(double[] a, double[] b)
    {
        double trace = 0;
        for (int i = 0; i < 9; i++)
        {
            trace += a[i] * b[i];
        }

        return Math.Acos(Math.Clamp((trace - 1) / 2, -1, 1)) * 180 / Math.PI;
    }

    private FaceMeshResult? Once(Mat bgr, ReadOnlySpan<double> box, double fovDegrees)
    {
        // First pass on BlazeFace's box, upright and turned 30 degrees either way: BlazeFace's eye
        // keypoints are too coarse on small faces to turn the crop by (measured: crops turned 25
        // degrees the wrong way on a level head), and the mesh model, trained on level crops,
        // draws a level face into a crop of a head rolled by 35 degrees. Each start is refined by
        // re-cropping on its landmarks; the start whose landmarks moved least in the last re-crop
        // (a crop the model agrees with) wins. The model's face score is no guide: it is 1.00 on
        // every face of the sample photos, right or wrong.
        var centre0 = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2);
        double side0 = Math.Max(box[2] - box[0], box[3] - box[1]) * RoiScale;
        float[] landmarks = [];
        float score = 0;
        double best = double.PositiveInfinity;
        foreach (double start in s_startAngles)
        {
            (float[] l, float sc) = Run(bgr, centre0, side0, start * Math.PI / 180);
            double change = 0;
            for (int pass = 0; pass < RefinePasses; pass++)
            {
                // Re-crop on the landmarks: eye line from the outer eye corners (33, 263).
                double angle = Math.Atan2(l[(263 * 3) + 1] - l[(33 * 3) + 1], l[263 * 3] - l[33 * 3]);
                ((double X, double Y) centre, double side) = Roi(l, angle);
                (float[] next, sc) = Run(bgr, centre, side, angle);
                change = Change(l, next) / side;
                l = next;
            }

            if (change < best)
            {
                (landmarks, score, best) = (l, sc, change);
            }
        }

        var pixels = new float[LandmarkCount * 2];
        for (int i = 0; i < LandmarkCount; i++)
        {
            pixels[i * 2] = landmarks[i * 3];
            pixels[(i * 2) + 1] = landmarks[(i * 3) + 1];
        }

        var rotation = new double[9];
        _pose.Reset();
        if (!_pose.Solve(pixels, bgr.Width, bgr.Height, fovDegrees, rotation, out (double X, double Y, double Z) head))
        {
            return null;
        }

        // Solve reports the head centre; the label's translation is the head frame's origin.
        Point3f c = KeypointPose.HeadCentre;
        double[] t =
        [
            head.X - ((rotation[0] * c.X) + (rotation[1] * c.Y) + (rotation[2] * c.Z)),
            head.Y - ((rotation[3] * c.X) + (rotation[4] * c.Y) + (rotation[5] * c.Z)),
            head.Z - ((rotation[6] * c.X) + (rotation[7] * c.Y) + (rotation[8] * c.Z)),
        ];
        return new FaceMeshResult(landmarks, score, rotation, t, _pose.LastRmsPixels);
    }

    public void Dispose() => _session.Dispose();

    /// <summary>Mean distance between two landmark sets, in pixels.</summary>
    private static double Change(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < LandmarkCount; i++)
        {
            double dx = a[i * 3] - b[i * 3], dy = a[(i * 3) + 1] - b[(i * 3) + 1];
            sum += Math.Sqrt((dx * dx) + (dy * dy));
        }

        return sum / LandmarkCount;
    }

    /// <summary>The square around the landmarks in the frame turned by <paramref name="angle"/>: its centre and 1.5 times its long side.</summary>
    private static ((double X, double Y) Centre, double Side) Roi(float[] landmarks, double angle)
    {
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        double u0 = double.MaxValue, u1 = double.MinValue, v0 = double.MaxValue, v1 = double.MinValue;
        for (int i = 0; i < LandmarkCount; i++)
        {
            double x = landmarks[i * 3], y = landmarks[(i * 3) + 1];
            double u = (x * cos) + (y * sin), v = (-x * sin) + (y * cos);
            u0 = Math.Min(u0, u);
            u1 = Math.Max(u1, u);
            v0 = Math.Min(v0, v);
            v1 = Math.Max(v1, v);
        }

        double uc = (u0 + u1) / 2, vc = (v0 + v1) / 2;
        return (((uc * cos) - (vc * sin), (uc * sin) + (vc * cos)), Math.Max(u1 - u0, v1 - v0) * RoiScale);
    }

    /// <summary>One pass of the mesh model on the square crop (centre, side, turned by angle);
    /// landmarks mapped back to image pixels.</summary>
    private (float[] Landmarks, float Score) Run(Mat bgr, (double X, double Y) centre, double side, double angle)
    {
        // Crop pixel (u, v) → image: centre + (side / 192) · R(angle) · (u - 96, v - 96).
        double k = side / Size, cos = Math.Cos(angle) * k, sin = Math.Sin(angle) * k;
        double half = Size / 2.0;
        using var m = new Mat(2, 3, MatType.CV_64FC1);
        m.Set(0, 0, cos);
        m.Set(0, 1, -sin);
        m.Set(0, 2, centre.X - (cos * half) + (sin * half));
        m.Set(1, 0, sin);
        m.Set(1, 1, cos);
        m.Set(1, 2, centre.Y - (sin * half) - (cos * half));
        using var crop = new Mat();
        Cv2.WarpAffine(bgr, crop, m, new OpenCvSharp.Size(Size, Size), InterpolationFlags.Linear | InterpolationFlags.WarpInverseMap, BorderTypes.Constant, Scalar.Black);
        crop.GetArray(out Vec3b[] bgrPixels);
        for (int i = 0; i < bgrPixels.Length; i++)
        {
            _pixels[i * 3] = bgrPixels[i].Item2 / 255f;
            _pixels[(i * 3) + 1] = bgrPixels[i].Item1 / 255f;
            _pixels[(i * 3) + 2] = bgrPixels[i].Item0 / 255f;
        }

        var input = new DenseTensor<float>(_pixels, [1, Size, Size, 3]);
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = _session.Run([NamedOnnxValue.CreateFromTensor(_input, input)]);
        float[] mesh = [.. results.Single(r => r.Name == "output_mesh").AsEnumerable<float>()];
        float score = results.Single(r => r.Name == "output_faceflag").AsEnumerable<float>().First();
        var landmarks = new float[LandmarkCount * 3];
        for (int i = 0; i < LandmarkCount; i++)
        {
            double u = mesh[i * 3], v = mesh[(i * 3) + 1];
            landmarks[i * 3] = (float)((cos * u) - (sin * v) + centre.X - (cos * half) + (sin * half));
            landmarks[(i * 3) + 1] = (float)((sin * u) + (cos * v) + centre.Y - (sin * half) - (cos * half));
            landmarks[(i * 3) + 2] = (float)(mesh[(i * 3) + 2] * k);
        }

        return (landmarks, score);
    }
}
