using System;

namespace HeadTracking.Runtime.Contract;

/// <summary>
/// The one vocabulary of what a model's outputs are, as the manifest's <c>kind</c> names them and
/// the trainer's <c>--heads</c> asks for them. The two differ only for the head centre: the trainer
/// calls the head "center" (what it learns), the manifest calls its output "point" (what it is);
/// <see cref="OfHead"/> and <see cref="HeadOf"/> are the only places that know.
/// </summary>
internal static class OutputKinds
{
    /// <summary>One point: the head centre, normalised to [-1, 1] over the input.</summary>
    public const string Point = "point";

    /// <summary>Named points (<see cref="Conventions.KeypointNames"/> by default), x, y each.</summary>
    public const string Keypoints = "keypoints";

    /// <summary>x0, y0, x1, y1 in [0, 1] over the input, then a score logit.</summary>
    public const string Box = "box";

    /// <summary>A 3x3 rotation matrix (rows x, y, z of the head in camera or ray axes).</summary>
    public const string Pose = "pose";

    /// <summary>Class logits (softmax, or sigmoid per class when multi-label).</summary>
    public const string Class = "class";

    /// <summary>Mask logits: one channel (sigmoid) or one per class (softmax).</summary>
    public const string Mask = "mask";

    /// <summary>Continuous values (regression), in their own units.</summary>
    public const string Value = "value";

    /// <summary>The trainer's name for the head whose output is a <see cref="Point"/>.</summary>
    public const string CenterHead = "center";

    /// <summary>Every head kind the trainer builds, in the order its help lists them.</summary>
    public static readonly string[] Heads = [CenterHead, Keypoints, Box, Pose, Class, Mask, Value];

    /// <summary>The manifest kind of a trainer head kind.</summary>
    /// <exception cref="ArgumentException">Not a head kind.</exception>
    public static string OfHead(string headKind) =>
        headKind == CenterHead ? Point
        : Array.IndexOf(Heads, headKind) >= 0 ? headKind
        : throw new ArgumentException($"unknown head kind '{headKind}' (known: {string.Join(", ", Heads)})", nameof(headKind));

    /// <summary>The trainer head kind of a manifest output kind, or null for one it does not build.</summary>
    public static string? HeadOf(string outputKind) =>
        outputKind == Point ? CenterHead
        : outputKind != CenterHead && Array.IndexOf(Heads, outputKind) >= 0 ? outputKind
        : null;
}
