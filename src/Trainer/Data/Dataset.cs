using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using OpenCvSharp;

namespace HeadTracking.Trainer.Data;

/// <summary>One example: its labels and how to get its pixels (a file, or bytes in memory).</summary>
internal sealed record DataItem(HeadLabel Label, string? ImagePath, Func<Mat>? Pixels = null)
{
    /// <summary>Its losses train the heads but not the backbone (<c>train --heads-only</c>).</summary>
    public bool HeadsOnly { get; init; }

    /// <summary>Decodes the image (BGR).</summary>
    /// <exception cref="InvalidDataException">Unreadable; the message names the file.</exception>
    public Mat Load()
    {
        if (Pixels != null)
        {
            return Pixels();
        }

        Mat image = Cv2.ImRead(ImagePath!, ImreadModes.Color);
        if (image.Empty())
        {
            image.Dispose();
            throw new InvalidDataException($"{ImagePath}: not an image OpenCV can decode");
        }

        return image;
    }
}

/// <summary>What a loader read: the items, the vocabulary (class names or mask codes), and what
/// it skipped and why.</summary>
internal sealed record Dataset(string Source, IReadOnlyList<DataItem> Items, IReadOnlyList<string> Classes, SkipReport Skipped)
{
    /// <summary>Segmentation: the name of each mask value (CamVid's codes.txt), empty otherwise.</summary>
    public IReadOnlyList<string> MaskCodes { get; init; } = [];

    /// <summary>Value heads: the name of each continuous target, empty when there are none.</summary>
    public IReadOnlyList<string> ValueNames { get; init; } = [];

    public IEnumerable<DataItem> Train => Items.Where(i => i.Label.Split != "valid");

    public IEnumerable<DataItem> Valid => Items.Where(i => i.Label.Split == "valid");

    public override string ToString() =>
        $"{Source}: {Items.Count} items ({Valid.Count()} valid), {Classes.Count} classes" +
        (MaskCodes.Count > 0 ? $", {MaskCodes.Count} mask codes ({string.Join(", ", MaskCodes)})" : "") +
        (ValueNames.Count > 0 ? $", values {string.Join(", ", ValueNames)}" : "") + $"; {Skipped}";
}

/// <summary>Train/valid splits: random, from a column the data carries, or whole groups at a time.</summary>
internal static class Splitters
{
    /// <summary>Each item independently valid with probability <paramref name="validFraction"/>.</summary>
    public static Dataset Random(Dataset d, double validFraction, int seed)
    {
        var rng = new System.Random(seed);
        return d with { Items = [.. d.Items.Select(i => i with { Label = i.Label with { Split = rng.NextDouble() < validFraction ? "valid" : "train" } })] };
    }

    /// <summary>Keeps the split the data carries (an is_valid column, train/valid folders, a split
    /// field); items without one go to train.</summary>
    public static Dataset ByColumn(Dataset d) =>
        d with { Items = [.. d.Items.Select(i => i with { Label = i.Label with { Split = i.Label.Split == "valid" ? "valid" : "train" } })] };

    /// <summary>Whole groups (identities: a person, a video, a source photo) to valid: the named
    /// ones, or, when none are named, a random share of groups.</summary>
    public static Dataset ByGroup(Dataset d, IReadOnlyCollection<string>? validGroups = null, double validFraction = 0.2, int seed = 0)
    {
        string Group(DataItem i) => i.Label.Identity?.Split('#')[0] ?? i.ImagePath ?? i.Label.Image;
        HashSet<string> valid;
        if (validGroups is { Count: > 0 })
        {
            valid = [.. validGroups];
        }
        else
        {
            var rng = new System.Random(seed);
            valid = [.. d.Items.Select(Group).Distinct().Order(StringComparer.Ordinal).Where(_ => rng.NextDouble() < validFraction)];
        }

        return d with { Items = [.. d.Items.Select(i => i with { Label = i.Label with { Split = valid.Contains(Group(i)) ? "valid" : "train" } })] };
    }
}
