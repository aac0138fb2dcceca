using System;

namespace HeadTracking.Runtime.Pose;

// Inputs are Span<T>, not ReadOnlySpan<T>, on purpose: under Mono (Unity-style games) netstandard2.1
// code that indexes or pins a ReadOnlySpan<T> throws MissingMethodException (MonoHostTests scans for it).
/// <summary>
/// Head rotations as 3x3 row-major matrices and as yaw, pitch, roll in degrees, in camera
/// coordinates (x right, y down, z away from the camera). The head's own axes are x toward its
/// left ear, y down, z toward the back of the head, so a face looking straight into the camera
/// is the identity. R = Ry(yaw) · Rx(pitch) · Rz(roll), and:
/// yaw &gt; 0 turns the face toward the image's left (the subject's right);
/// pitch &gt; 0 tilts the face down; roll &gt; 0 turns the head clockwise in the image.
/// A horizontal image flip negates yaw and roll.
/// </summary>
internal static class Rotation
{
    private const double Deg = Math.PI / 180.0;

    /// <summary>Writes R = Ry(yaw) Rx(pitch) Rz(roll) into <paramref name="r"/> (9 values, row-major).</summary>
    public static void FromEuler(double yawDeg, double pitchDeg, double rollDeg, Span<double> r)
    {
        double ca = Math.Cos(yawDeg * Deg), sa = Math.Sin(yawDeg * Deg);
        double cb = Math.Cos(pitchDeg * Deg), sb = Math.Sin(pitchDeg * Deg);
        double cc = Math.Cos(rollDeg * Deg), sc = Math.Sin(rollDeg * Deg);
        r[0] = (ca * cc) + (sa * sb * sc);
        r[1] = (-ca * sc) + (sa * sb * cc);
        r[2] = sa * cb;
        r[3] = cb * sc;
        r[4] = cb * cc;
        r[5] = -sb;
        r[6] = (-sa * cc) + (ca * sb * sc);
        r[7] = (sa * sc) + (ca * sb * cc);
        r[8] = ca * cb;
    }

    /// <summary>How far apart two angles in degrees are, the short way round: in [0, 180].</summary>
    public static double AngleDifference(double a, double b)
    {
        double d = Math.Abs(a - b) % 360;
        return d > 180 ? 360 - d : d;
    }

    /// <summary>Yaw, pitch, roll in degrees of a rotation matrix (row-major), inverse of
    /// <see cref="FromEuler"/> for pitch within ±90°.</summary>
    public static (double Yaw, double Pitch, double Roll) ToEuler(Span<double> r)
    {
        double pitch = Math.Asin(Math.Max(-1.0, Math.Min(1.0, -r[5])));
        double yaw = Math.Atan2(r[2], r[8]);
        double roll = Math.Atan2(r[3], r[4]);
        return (yaw / Deg, pitch / Deg, roll / Deg);
    }

    /// <summary>
    /// The smallest rotation that turns the camera's axis (0, 0, 1) onto the ray through the
    /// normalised image point (x, y) = ((u - cx) / fx, (v - cy) / fy): the frame of a virtual
    /// camera looking straight at that point. A head's pose "relative to the ray" (what a crop
    /// around the head shows: it cannot see where in the frame it was cut) is R_ray = Ray^T · R;
    /// the camera's is R = Ray · R_ray.
    /// </summary>
    public static void Ray(double x, double y, Span<double> r)
    {
        double s = Math.Sqrt((x * x) + (y * y));
        Span<double> v = stackalloc double[3];
        if (s > 1e-12)
        {
            // Axis z × d = (-y, x, 0), angle between z and d = (x, y, 1).
            double angle = Math.Atan(s);
            v[0] = -y / s * angle;
            v[1] = x / s * angle;
        }

        KeypointPose.Rodrigues(v, r);
    }

    /// <summary>The camera-frame rotation of a pose given relative to the ray through (x, y): Ray · apparent.</summary>
    public static void RayToCamera(Span<double> apparent, double x, double y, Span<double> camera)
    {
        Span<double> ray = stackalloc double[9];
        Ray(x, y, ray);
        KeypointPose.Multiply(ray, apparent, camera);
    }

    /// <summary>The pose relative to the ray through (x, y) of a camera-frame rotation: Rayᵀ · camera
    /// (Rayᵀ is Ray(-x, -y): the same axis reversed, the same angle).</summary>
    public static void CameraToRay(Span<double> camera, double x, double y, Span<double> apparent)
    {
        Span<double> inverse = stackalloc double[9];
        Ray(-x, -y, inverse);
        KeypointPose.Multiply(inverse, camera, apparent);
    }

    /// <summary>Float overload for model outputs.</summary>
    public static (double Yaw, double Pitch, double Roll) ToEuler(Span<float> r)
    {
        Span<double> d = stackalloc double[9];
        for (int i = 0; i < 9; i++)
        {
            d[i] = r[i];
        }

        return ToEuler(d);
    }
}
