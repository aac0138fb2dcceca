using System;
using System.IO;

namespace HeadTracking.Tests;

/// <summary>Where the projects under test were built: the same configuration as this test assembly.</summary>
internal static class BuildOutput
{
    /// <summary>Debug or Release, read from this assembly's own output path (bin/CONFIG/TFM/).</summary>
    public static string Configuration =>
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The output folder of a project, e.g. ("src/Trainer") → src/Trainer/bin/Release/net10.0.</summary>
    public static string Of(string projectDir) =>
        Path.Combine(Repo.Root, projectDir, "bin", Configuration, "net10.0");
}
