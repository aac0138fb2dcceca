using System;

namespace HeadTracker.Runtime.Pose;

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

    /// <summary>Yaw, pitch, roll in degrees of a rotation matrix (row-major), inverse of
    /// <see cref="FromEuler"/> for pitch within ±90°.</summary>
    public static (double Yaw, double Pitch, double Roll) ToEuler(Span<double> r)
    {
        double pitch = Math.Asin(Math.Max(-1.0, Math.Min(1.0, -r[5])));
        double yaw = Math.Atan2(r[2], r[8]);
        double roll = Math.Atan2(r[3], r[4]);
        return (yaw / Deg, pitch / Deg, roll / Deg);
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
