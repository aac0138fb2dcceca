using System;
using System.Collections.Generic;
using OpenCvSharp;
using Native = OpenCvSharp.Internal.NativeMethods;

namespace HeadTracker.Runtime.Pose;

/// <summary>
/// 6-DoF head pose from 2-D keypoints: OpenCV's solvePnP against a generic 3-D face, through a
/// pinhole camera of a given horizontal field of view. The first frame (and any after a failure)
/// is solved with EPnP and refined iteratively; later frames start from the previous solution,
/// which keeps the pose continuous. Buffers are allocated once: a solve allocates nothing.
/// Not thread-safe: one per worker.
/// </summary>
internal sealed class KeypointPose
{
    /// <summary>
    /// The generic face in the head frame (cm; x toward the left ear, y down, z toward the back):
    /// MediaPipe's canonical face mesh at the vertices the synthetic data labels as BlazeFace's six
    /// keypoints (eyes and mouth the mean of two vertices).
    /// </summary>
    public static readonly IReadOnlyDictionary<string, Point3f> GenericFace = new Dictionary<string, Point3f>(StringComparer.Ordinal)
    {
        ["right_eye"] = new(-3.151f, -2.625f, -3.466f),
        ["left_eye"] = new(3.151f, -2.625f, -3.466f),
        ["nose_tip"] = new(0f, 1.127f, -7.476f),
        ["mouth"] = new(0f, 4.268f, -5.312f),
        ["right_ear"] = new(-7.664f, -0.673f, 2.436f),
        ["left_ear"] = new(7.664f, -0.673f, 2.436f),
    };

    /// <summary>The head centre in the head frame (cm): the middle of the skull, the point the
    /// centre head is trained on. The pose's position is this point's.</summary>
    public static readonly Point3f HeadCentre = new(0f, -2f, 5f);

    private const int Iterative = 0, Epnp = 1;
    private readonly Point3f[] _object;
    private readonly Point2f[] _image;
    private readonly int[] _source; // keypoint index in the model's output per object point
    private readonly double[] _camera = new double[9];
    private readonly double[] _distortion = new double[5];
    private readonly double[] _rvec = new double[3], _tvec = new double[3];
    private bool _hasGuess;

    private KeypointPose(List<(int Index, Point3f Point)> matched)
    {
        _object = new Point3f[matched.Count];
        _image = new Point2f[matched.Count];
        _source = new int[matched.Count];
        for (int i = 0; i < matched.Count; i++)
        {
            _source[i] = matched[i].Index;
            _object[i] = matched[i].Point;
        }
    }

    /// <summary>A solver for a model whose keypoints are named <paramref name="names"/>, or null when
    /// fewer than six of them are in <see cref="GenericFace"/>.</summary>
    public static KeypointPose? For(IReadOnlyList<string>? names)
    {
        if (names == null)
        {
            return null;
        }

        var matched = new List<(int, Point3f)>();
        for (int i = 0; i < names.Count; i++)
        {
            if (GenericFace.TryGetValue(names[i], out Point3f p))
            {
                matched.Add((i, p));
            }
        }

        return matched.Count >= 6 ? new KeypointPose(matched) : null;
    }

    /// <summary>Forgets the previous solution (after the head was lost).</summary>
    public void Reset() => _hasGuess = false;

    /// <summary>
    /// Solves the pose of the keypoints (x, y pairs in frame pixels, the model's order) in a frame
    /// <paramref name="width"/> pixels wide and <paramref name="height"/> high.
    /// </summary>
    /// <param name="keypoints">The model's keypoints in frame pixels.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="horizontalFovDegrees">The camera's horizontal field of view.</param>
    /// <param name="rotation">Receives the head's rotation, row-major (see <see cref="Rotation"/>).</param>
    /// <param name="centre">Receives the head centre in camera coordinates, cm.</param>
    /// <returns>False when there is no plausible solution (non-finite, or behind the camera).</returns>
    public bool Solve(ReadOnlySpan<float> keypoints, int width, int height, double horizontalFovDegrees, Span<double> rotation, out (double X, double Y, double Z) centre)
    {
        centre = default;
        for (int i = 0; i < _source.Length; i++)
        {
            float x = keypoints[_source[i] * 2], y = keypoints[(_source[i] * 2) + 1];
            if (!float.IsFinite(x) || !float.IsFinite(y))
            {
                return false;
            }

            _image[i] = new Point2f(x, y);
        }

        double f = width / 2.0 / Math.Tan(horizontalFovDegrees * Math.PI / 360);
        _camera[0] = f;
        _camera[2] = width / 2.0;
        _camera[4] = f;
        _camera[5] = height / 2.0;
        _camera[8] = 1;
        if (!_hasGuess && !Run(Epnp, guess: false))
        {
            return false;
        }

        if (!Run(Iterative, guess: true) || !(_tvec[2] > 1))
        {
            _hasGuess = false;
            return false;
        }

        _hasGuess = true;
        Rodrigues(_rvec, rotation);
        Point3f c = HeadCentre;
        centre = (
            (rotation[0] * c.X) + (rotation[1] * c.Y) + (rotation[2] * c.Z) + _tvec[0],
            (rotation[3] * c.X) + (rotation[4] * c.Y) + (rotation[5] * c.Z) + _tvec[1],
            (rotation[6] * c.X) + (rotation[7] * c.Y) + (rotation[8] * c.Z) + _tvec[2]);
        return true;
    }

    private unsafe bool Run(int flags, bool guess)
    {
        fixed (double* camera = _camera)
        {
            // The array entry point: OpenCV reads and writes the caller's arrays in place.
            Native.HandleException(Native.calib3d_solvePnP_vector(
                _object, _object.Length, _image, _image.Length, camera, _distortion, _distortion.Length, _rvec, _tvec, guess ? 1 : 0, flags));
        }

        for (int i = 0; i < 3; i++)
        {
            if (!double.IsFinite(_rvec[i]) || !double.IsFinite(_tvec[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The rotation matrix of a rotation vector (axis times angle in radians).</summary>
    public static void Rodrigues(ReadOnlySpan<double> v, Span<double> r)
    {
        double theta = Math.Sqrt((v[0] * v[0]) + (v[1] * v[1]) + (v[2] * v[2]));
        if (theta < 1e-12)
        {
            r.Clear();
            r[0] = r[4] = r[8] = 1;
            return;
        }

        double x = v[0] / theta, y = v[1] / theta, z = v[2] / theta;
        double c = Math.Cos(theta), s = Math.Sin(theta), t = 1 - c;
        r[0] = (t * x * x) + c;
        r[1] = (t * x * y) - (s * z);
        r[2] = (t * x * z) + (s * y);
        r[3] = (t * x * y) + (s * z);
        r[4] = (t * y * y) + c;
        r[5] = (t * y * z) - (s * x);
        r[6] = (t * x * z) - (s * y);
        r[7] = (t * y * z) + (s * x);
        r[8] = (t * z * z) + c;
    }
}
