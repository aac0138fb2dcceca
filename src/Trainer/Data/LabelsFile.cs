using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace HeadTracking.Trainer.Data;

/// <summary>What a tolerant read skipped: how many lines, and the first few reasons with their place.</summary>
internal sealed class SkipReport
{
    private readonly List<string> _first = [];

    public int Count { get; private set; }

    public IReadOnlyList<string> First => _first;

    public void Add(string where)
    {
        Count++;
        if (_first.Count < 5)
        {
            _first.Add(where);
        }
    }

    public override string ToString() => Count == 0 ? "nothing skipped" : $"{Count} skipped, first: {string.Join("; ", _first)}";
}

/// <summary>Reads and writes labels.jsonl: one <see cref="HeadLabel"/> JSON object per line.</summary>
internal static class LabelsFile
{
    public const string FileName = "labels.jsonl";

    /// <summary>Writes every record, one per line, to a temporary file renamed into place.</summary>
    public static void Write(string path, IEnumerable<HeadLabel> labels)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var writer = new StreamWriter(temp, false, new UTF8Encoding(false)))
            {
                foreach (HeadLabel label in labels)
                {
                    writer.Write(label.ToJson());
                    writer.Write('\n');
                }
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Reads every valid record. A malformed line, a record without an image, or coordinates far
    /// outside the image is skipped and counted in <paramref name="skipped"/>; with
    /// <paramref name="strict"/> it throws instead, naming the file and line.
    /// </summary>
    /// <exception cref="InvalidDataException">Strict mode and a bad line.</exception>
    public static List<HeadLabel> Read(string path, SkipReport skipped, bool strict = false)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"labels file not found: {path}", path);
        }

        var result = new List<HeadLabel>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string? problem;
            HeadLabel? label = null;
            try
            {
                label = JsonSerializer.Deserialize<HeadLabel>(line, HeadLabel.Json);
                problem = label == null ? "empty record" : Check(label);
            }
            catch (JsonException e)
            {
                problem = $"not valid JSON ({e.Message})";
            }

            if (problem != null)
            {
                string where = $"{path}:{lineNumber}: {problem}";
                if (strict)
                {
                    throw new InvalidDataException(where);
                }

                skipped.Add(where);
                continue;
            }

            result.Add(label!);
        }

        return result;
    }

    /// <summary>Why a record is unusable, or null.</summary>
    public static string? Check(HeadLabel l)
    {
        if (string.IsNullOrEmpty(l.Image))
        {
            return "no image";
        }

        if (l.Width <= 0 || l.Height <= 0)
        {
            return $"image size {l.Width}x{l.Height}";
        }

        // Points may lie a little outside the frame (a head half out of view), not far.
        double mx = l.Width * 0.5, my = l.Height * 0.5;
        bool Outside(double x, double y) => !double.IsFinite(x) || !double.IsFinite(y) || x < -mx || y < -my || x > l.Width + mx || y > l.Height + my;
        if (l.Center is { } c && (c.Length != 2 || Outside(c[0], c[1])))
        {
            return "center out of range";
        }

        if (l.Box is { } b && (b.Length != 4 || Outside(b[0], b[1]) || Outside(b[2], b[3]) || b[2] <= b[0] || b[3] <= b[1]))
        {
            return "box out of range or empty";
        }

        if (l.Keypoints is { } k && k.Any(p => p.Length < 2 || Outside(p[0], p[1])))
        {
            return "keypoint out of range";
        }

        if (l.Pose is { } pose && (!double.IsFinite(pose.Yaw) || !double.IsFinite(pose.Pitch) || !double.IsFinite(pose.Roll) || pose.Rotation is not { Length: 9 }))
        {
            return "pose not finite or rotation not 9 values";
        }

        return null;
    }
}
