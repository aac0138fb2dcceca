using System;
using System.IO;

namespace HeadTracking;

/// <summary>
/// Finds what ./build.sh fetches into external/ (models, photos, meshes), searching up from the
/// program's folder and from the current folder. Compiled into each program that needs it.
/// </summary>
internal static class ExternalData
{
    /// <summary>The path of external/<paramref name="relative"/> (a file or a folder).</summary>
    /// <exception cref="FileNotFoundException">Not fetched; the message says how to fetch it.</exception>
    public static string Find(string relative) =>
        Search(Path.Combine("external", relative))
        ?? throw new FileNotFoundException($"external/{relative} not found: run ./build.sh setup to fetch it, or pass its path.", relative);

    /// <summary>A file the repository ships (e.g. models/headtracker-default.onnx), or null.</summary>
    public static string? FindShipped(string relative) => Search(relative);

    private static string? Search(string relative)
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate) || Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}
