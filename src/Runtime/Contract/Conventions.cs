using System;
using System.Collections.Generic;
using System.Linq;

namespace HeadTracking.Runtime.Contract;

/// <summary>
/// Conventions the trainer, the synthesizer and the runtime share, defined here once: the default
/// keypoints and how a mirror image reorders them, the face's width, how a detector's box relates
/// to it, and the pinhole focal length from a field of view.
/// </summary>
internal static class Conventions
{
    /// <summary>BlazeFace's six keypoints, in its order: the default keypoints of a model. "Right" is the subject's right.</summary>
    public static readonly string[] KeypointNames = ["right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear"];

    /// <summary>Where each of <see cref="KeypointNames"/> comes from in a mirrored image.</summary>
    public static readonly int[] KeypointFlip = FlipOrder(KeypointNames);

    /// <summary>The head centre in the head frame (cm, MediaPipe's canonical face mesh: x toward the
    /// left ear, y down, z toward the back of the head): the middle of the skull. The synthesizer
    /// labels it, the teacher fits it, the centre head learns it, and a pose's position is this point's.</summary>
    public static readonly (float X, float Y, float Z) HeadCentre = (0f, -2f, 5f);

    /// <summary>An adult face's width (between the ear roots) in cm, the runtime's default scale for distance.</summary>
    public const double FaceWidthCm = 15.3;

    /// <summary>Two-stage mode: the first crop after a detection is CropScale times this times
    /// BlazeFace's box width (the crops after it follow the model's box, CropScale times its width).
    /// It was chosen as the face width the trainer's boxes mean (0.84 of BlazeFace's box), measured
    /// on synthetic renders whose face textures sat off the mesh; on renders
    /// textured at the dense teacher's landmarks (since 2026-12-05) the labelled box is BlazeFace's
    /// (1.01 times it, EndToEndTests), but 1.0 here made the first crop looser and the still head
    /// on the stability bench shakier (worst draw 0.42 px filtered against 0.07 with default model
    /// version 4), so it stays a tighter first crop until that is understood.</summary>
    public const double DetectorToFaceWidth = 0.85;

    /// <summary>The pinhole focal length in pixels of an image <paramref name="widthPx"/> wide
    /// seen through a horizontal field of view of <paramref name="horizontalFovDegrees"/>.</summary>
    public static double FocalPixels(double widthPx, double horizontalFovDegrees) =>
        widthPx / 2.0 / Math.Tan(horizontalFovDegrees * Math.PI / 360);

    /// <summary>Where each keypoint comes from in a mirrored image: names with "left" and
    /// "right" (or "l_"/"r_", "_l"/"_r") swap with their partner, others stay.</summary>
    public static int[] FlipOrder(IReadOnlyList<string> names)
    {
        static string Mirror(string n)
        {
            string lower = n.ToLowerInvariant();
            foreach ((string a, string b) in new[] { ("left", "right"), ("right", "left") })
            {
                int at = lower.IndexOf(a, StringComparison.Ordinal);
                if (at >= 0)
                {
                    return lower.Substring(0, at) + b + lower.Substring(at + a.Length);
                }
            }

            return lower.StartsWith("l_", StringComparison.Ordinal) ? "r_" + lower.Substring(2)
                : lower.StartsWith("r_", StringComparison.Ordinal) ? "l_" + lower.Substring(2)
                : lower.EndsWith("_l", StringComparison.Ordinal) ? lower.Substring(0, lower.Length - 2) + "_r"
                : lower.EndsWith("_r", StringComparison.Ordinal) ? lower.Substring(0, lower.Length - 2) + "_l"
                : lower;
        }

        string[] lowered = names.Select(n => n.ToLowerInvariant()).ToArray();
        return names.Select((n, i) => Array.IndexOf(lowered, Mirror(n)) is var j and >= 0 ? j : i).ToArray();
    }
}
