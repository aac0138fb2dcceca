using System.IO;
using System.Linq;
using HeadTracking.Tests;

namespace HeadTracking.Build.Tests;

public class PackageSelectionTests
{
    private static readonly string[] s_notServedHere =
    [
        "TorchSharp-cuda-windows", "TorchSharp-cuda-linux", "Microsoft.ML.OnnxRuntime.Gpu",
        "Microsoft.ML.OnnxRuntime.DirectML", "OpenCvSharp4.runtime.win",
    ];

    private static string[] PackageReferences(string project, params string[] properties)
    {
        var args = new[] { "msbuild", project, "-nologo", "-getItem:PackageReference" }
            .Concat(properties.Select(p => "-p:" + p)).ToArray();
        var r = Processes.Run("dotnet", args);
        Assert.True(r.ExitCode == 0, r.All);
        using var json = System.Text.Json.JsonDocument.Parse(r.StdOut);
        return json.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
            .Select(e => e.GetProperty("Identity").GetString()!).ToArray();
    }

    [Fact]
    public void Default_linux_build_selects_cpu_packages_only()
    {
        string[] trainer = PackageReferences("src/Trainer/HeadTracker.Trainer.csproj", "HeadTrackerPlatform=linux");
        Assert.Contains("TorchSharp-cpu", trainer);
        Assert.Contains("Microsoft.ML.OnnxRuntime", trainer);
        Assert.Contains("OpenCvSharp4.official.runtime.linux-x64", trainer);
        Assert.Empty(trainer.Intersect(s_notServedHere));
    }

    [Fact]
    public void Windows_cuda_switch_selects_the_nvidia_and_windows_packages()
    {
        string[] trainer = PackageReferences("src/Trainer/HeadTracker.Trainer.csproj",
            "HeadTrackerPlatform=windows", "HeadTrackerAccelerator=cuda");
        Assert.Contains("TorchSharp-cuda-windows", trainer);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", trainer);
        Assert.Contains("OpenCvSharp4.runtime.win", trainer);
        Assert.DoesNotContain("TorchSharp-cpu", trainer);
        Assert.DoesNotContain("Microsoft.ML.OnnxRuntime", trainer);
        Assert.DoesNotContain("OpenCvSharp4.official.runtime.linux-x64", trainer);
    }

    [Fact]
    public void Windows_directml_switch_selects_directml_for_the_runtime()
    {
        string[] runtime = PackageReferences("src/Runtime/HeadTracker.Runtime.csproj",
            "HeadTrackerPlatform=windows", "HeadTrackerAccelerator=directml");
        Assert.Contains("Microsoft.ML.OnnxRuntime.DirectML", runtime);
        Assert.DoesNotContain("Microsoft.ML.OnnxRuntime.Gpu", runtime);
    }

    [Fact]
    public void Unknown_switch_value_fails_with_a_message_naming_the_property()
    {
        var r = Processes.Run("dotnet", ["msbuild", "src/Runtime/HeadTracker.Runtime.csproj", "-nologo",
            "-t:HeadTrackerCheckSwitches", "-p:HeadTrackerAccelerator=rocm"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("HeadTrackerAccelerator='rocm' is not one of: cpu, cuda, directml", r.All, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Restored_projects_never_asked_for_packages_not_served_here()
    {
        string[] assets = Directory.GetFiles(Repo.Root, "project.assets.json", SearchOption.AllDirectories)
            .Where(p => p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", System.StringComparison.Ordinal))
            .ToArray();
        Assert.True(assets.Length >= 8, $"expected every project to be restored, found {assets.Length} assets files");
        foreach (string file in assets)
        {
            string text = File.ReadAllText(file);
            foreach (string package in s_notServedHere)
            {
                Assert.DoesNotContain($"\"{package}/", text, System.StringComparison.OrdinalIgnoreCase);
            }
        }
    }
}
