using System;
using System.Collections.Generic;
using HeadTracking.Runtime.Contract;
using OpenCvSharp;
using Native = OpenCvSharp.Internal.NativeMethods;

namespace HeadTracking.Runtime.Pose;

// Inputs are Span<T>, not ReadOnlySpan<T>, on purpose: under Mono (Unity-style games) netstandard2.1
// code that indexes or pins a ReadOnlySpan<T> throws MissingMethodException (MonoHostTests scans for it).
/// <summary>
/// 6-DoF head pose from 2-D keypoints against a generic 3-D face, through a pinhole camera of a
/// given horizontal field of view. The first frame (and any after a failure) is solved by OpenCV's
/// EPnP; every frame is then refined by our own Levenberg-Marquardt on the reprojection error,
/// starting from the previous solution, which keeps the pose continuous. (OpenCV's iterative
/// solvePnP took about 1 ms a frame here; this refinement takes microseconds.) Buffers are
/// allocated once: a solve allocates nothing. Not thread-safe: one per worker.
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

    /// <summary><see cref="Conventions.HeadCentre"/>, for OpenCV.</summary>
    public static readonly Point3f HeadCentre = new(Conventions.HeadCentre.X, Conventions.HeadCentre.Y, Conventions.HeadCentre.Z);

    private const int Epnp = 1, MaxIterations = 20;
    private readonly Point3f[] _object;
    private readonly Point2f[] _image;
    private readonly int[] _source; // keypoint index in the model's output per object point
    private readonly double[] _camera = new double[9];
    private readonly double[] _distortion = new double[5];
    private readonly double[] _rvec = new double[3], _tvec = new double[3];
    private readonly double[] _r = new double[9], _t = new double[3]; // the current solution
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

    /// <summary>A solver for any set of 3-D points (head frame, cm), keypoint i being point i: a
    /// dense landmark set against its own mesh, say. Needs at least six points.</summary>
    /// <exception cref="ArgumentException">Fewer than six points.</exception>
    public static KeypointPose ForPoints(IReadOnlyList<Point3f> points)
    {
        if (points.Count < 6)
        {
            throw new ArgumentException($"a pose needs at least 6 points, got {points.Count}", nameof(points));
        }

        var matched = new List<(int, Point3f)>(points.Count);
        for (int i = 0; i < points.Count; i++)
        {
            matched.Add((i, points[i]));
        }

        return new KeypointPose(matched);
    }

    /// <summary>Root-mean-square reprojection error of the last solution, in pixels.</summary>
    public double LastRmsPixels { get; private set; }

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
    public bool Solve(Span<float> keypoints, int width, int height, double horizontalFovDegrees, Span<double> rotation, out (double X, double Y, double Z) centre)
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

        double f = Conventions.FocalPixels(width, horizontalFovDegrees);
        double cx = width / 2.0, cy = height / 2.0;
        if (!_hasGuess)
        {
            _camera[0] = f;
            _camera[2] = cx;
            _camera[4] = f;
            _camera[5] = cy;
            _camera[8] = 1;
            if (!SolveEpnp())
            {
                return false;
            }

            Rodrigues(_rvec, _r);
            Array.Copy(_tvec, _t, 3);
        }

        if (!Refine(f, cx, cy) || !(_t[2] > 1))
        {
            _hasGuess = false;
            return false;
        }

        _hasGuess = true;
        LastRmsPixels = Math.Sqrt(Error(_r, _t, f, cx, cy) / _object.Length);
        _r.AsSpan().CopyTo(rotation);
        Point3f c = HeadCentre;
        centre = (
            (rotation[0] * c.X) + (rotation[1] * c.Y) + (rotation[2] * c.Z) + _t[0],
            (rotation[3] * c.X) + (rotation[4] * c.Y) + (rotation[5] * c.Z) + _t[1],
            (rotation[6] * c.X) + (rotation[7] * c.Y) + (rotation[8] * c.Z) + _t[2]);
        return true;
    }

    /// <summary>
    /// Levenberg-Marquardt on the squared reprojection error over (rotation, translation): the
    /// rotation is updated on the left by a small rotation vector, R ← exp(δ)·R, so the Jacobian is
    /// analytic: for q = R·P and X = q + t, ∂X/∂δ = -[q]ₓ and ∂X/∂t = I.
    /// </summary>
    private bool Refine(double f, double cx, double cy)
    {
        Span<double> jtj = stackalloc double[36];
        Span<double> jtr = stackalloc double[6];
        Span<double> step = stackalloc double[6];
        Span<double> dr = stackalloc double[9];
        Span<double> candidateR = stackalloc double[9];
        Span<double> candidateT = stackalloc double[3];
        Span<double> ju = stackalloc double[6];
        Span<double> jv = stackalloc double[6];
        double lambda = 1e-3;
        double error = Error(_r, _t, f, cx, cy);
        if (!double.IsFinite(error))
        {
            return false;
        }

        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            jtj.Clear();
            jtr.Clear();
            for (int i = 0; i < _object.Length; i++)
            {
                Point3f p = _object[i];
                double qx = (_r[0] * p.X) + (_r[1] * p.Y) + (_r[2] * p.Z);
                double qy = (_r[3] * p.X) + (_r[4] * p.Y) + (_r[5] * p.Z);
                double qz = (_r[6] * p.X) + (_r[7] * p.Y) + (_r[8] * p.Z);
                double x = qx + _t[0], y = qy + _t[1], z = qz + _t[2];
                if (!(z > 1e-6))
                {
                    return false;
                }

                double iz = 1 / z;
                double ru = (f * x * iz) + cx - _image[i].X, rv = (f * y * iz) + cy - _image[i].Y;
                // d(u, v)/dX, then through -[q]x for the rotation and I for the translation.
                double ux = f * iz, uz = -f * x * iz * iz, vy = f * iz, vz = -f * y * iz * iz;
                // -[q]x = [[0, qz, -qy], [-qz, 0, qx], [qy, -qx, 0]]
                ju[0] = uz * qy;
                ju[1] = (ux * qz) - (uz * qx);
                ju[2] = -ux * qy;
                ju[3] = ux;
                ju[4] = 0;
                ju[5] = uz;
                jv[0] = (-vy * qz) + (vz * qy);
                jv[1] = -vz * qx;
                jv[2] = vy * qx;
                jv[3] = 0;
                jv[4] = vy;
                jv[5] = vz;
                for (int a = 0; a < 6; a++)
                {
                    jtr[a] += (ju[a] * ru) + (jv[a] * rv);
                    for (int b = 0; b < 6; b++)
                    {
                        jtj[(a * 6) + b] += (ju[a] * ju[b]) + (jv[a] * jv[b]);
                    }
                }
            }

            bool improved = false;
            while (lambda < 1e8)
            {
                if (!SolveDamped(jtj, jtr, lambda, step))
                {
                    return false;
                }

                Rodrigues(step[..3], dr);
                Multiply(dr, _r, candidateR);
                candidateT[0] = _t[0] + step[3];
                candidateT[1] = _t[1] + step[4];
                candidateT[2] = _t[2] + step[5];
                double candidate = Error(candidateR, candidateT, f, cx, cy);
                if (candidate < error)
                {
                    candidateR.CopyTo(_r);
                    candidateT.CopyTo(_t);
                    bool converged = error - candidate < 1e-10 * (1 + error);
                    error = candidate;
                    lambda = Math.Max(1e-7, lambda / 10);
                    improved = true;
                    if (converged)
                    {
                        return true;
                    }

                    break;
                }

                lambda *= 10;
            }

            if (!improved)
            {
                return true; // no step lowers the error: a minimum
            }
        }

        return true;
    }

    /// <summary>Sum of squared reprojection errors of a candidate pose, in pixels².</summary>
    private double Error(Span<double> r, Span<double> t, double f, double cx, double cy)
    {
        double sum = 0;
        for (int i = 0; i < _object.Length; i++)
        {
            Point3f p = _object[i];
            double x = (r[0] * p.X) + (r[1] * p.Y) + (r[2] * p.Z) + t[0];
            double y = (r[3] * p.X) + (r[4] * p.Y) + (r[5] * p.Z) + t[1];
            double z = (r[6] * p.X) + (r[7] * p.Y) + (r[8] * p.Z) + t[2];
            if (!(z > 1e-6))
            {
                return double.PositiveInfinity;
            }

            double du = (f * x / z) + cx - _image[i].X, dv = (f * y / z) + cy - _image[i].Y;
            sum += (du * du) + (dv * dv);
        }

        return sum;
    }

    /// <summary>Solves (JᵀJ + λ·diag(JᵀJ)) s = -Jᵀr by Gaussian elimination with partial pivoting.</summary>
    private static bool SolveDamped(Span<double> jtj, Span<double> jtr, double lambda, Span<double> step)
    {
        Span<double> a = stackalloc double[42]; // 6 x 7, augmented
        for (int i = 0; i < 6; i++)
        {
            for (int j = 0; j < 6; j++)
            {
                a[(i * 7) + j] = jtj[(i * 6) + j] + (i == j ? lambda * Math.Max(jtj[(i * 6) + i], 1e-9) : 0);
            }

            a[(i * 7) + 6] = -jtr[i];
        }

        for (int c = 0; c < 6; c++)
        {
            int pivot = c;
            for (int i = c + 1; i < 6; i++)
            {
                if (Math.Abs(a[(i * 7) + c]) > Math.Abs(a[(pivot * 7) + c]))
                {
                    pivot = i;
                }
            }

            if (Math.Abs(a[(pivot * 7) + c]) < 1e-300)
            {
                return false;
            }

            if (pivot != c)
            {
                for (int j = 0; j < 7; j++)
                {
                    (a[(c * 7) + j], a[(pivot * 7) + j]) = (a[(pivot * 7) + j], a[(c * 7) + j]);
                }
            }

            for (int i = c + 1; i < 6; i++)
            {
                double m = a[(i * 7) + c] / a[(c * 7) + c];
                for (int j = c; j < 7; j++)
                {
                    a[(i * 7) + j] -= m * a[(c * 7) + j];
                }
            }
        }

        for (int i = 5; i >= 0; i--)
        {
            double v = a[(i * 7) + 6];
            for (int j = i + 1; j < 6; j++)
            {
                v -= a[(i * 7) + j] * step[j];
            }

            step[i] = v / a[(i * 7) + i];
        }

        for (int i = 0; i < 6; i++)
        {
            if (!double.IsFinite(step[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>result = a · b for 3x3 row-major matrices.</summary>
    internal static void Multiply(Span<double> a, Span<double> b, Span<double> result)
    {
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                result[(i * 3) + j] = (a[i * 3] * b[j]) + (a[(i * 3) + 1] * b[3 + j]) + (a[(i * 3) + 2] * b[6 + j]);
            }
        }
    }

    /// <summary>OpenCV's EPnP from no guess: the starting pose.</summary>
    private unsafe bool SolveEpnp()
    {
        fixed (double* camera = _camera)
        {
            // The array entry point: OpenCV reads and writes the caller's arrays in place.
            Native.HandleException(Native.calib3d_solvePnP_vector(
                _object, _object.Length, _image, _image.Length, camera, _distortion, _distortion.Length, _rvec, _tvec, 0, Epnp));
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
    public static void Rodrigues(Span<double> v, Span<double> r)
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
