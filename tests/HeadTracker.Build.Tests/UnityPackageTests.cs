using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using HeadTracking.Tests;

namespace HeadTracking.Build.Tests;

/// <summary>Lays the Unity package out once (build/unity-package.sh) into a temp folder.</summary>
public sealed class UnityPackageFixture : IDisposable
{
    public UnityPackageFixture()
    {
        Out = Repo.NewTempDir("unity-package");
        Result = Processes.Run("bash", [Path.Combine(Repo.Root, "build", "unity-package.sh")], env: new Dictionary<string, string>
        {
            ["HEADTRACKER_UNITY_OUT"] = Out,
            ["HEADTRACKER_CONFIGURATION"] = BuildOutput.Configuration,
        });
        Package = Path.Combine(Out, "com.headtracker.runtime");
    }

    public string Out { get; }

    public string Package { get; }

    internal Processes.Result Result { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Out, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }
}

public sealed partial class UnityPackageTests(UnityPackageFixture f) : IClassFixture<UnityPackageFixture>
{
    [Fact]
    public void The_package_has_the_UPM_layout_a_game_developer_expects()
    {
        Assert.True(f.Result.ExitCode == 0, "build/unity-package.sh failed:\n" + f.Result.All);
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(f.Package, "package.json")));
        JsonElement m = manifest.RootElement;
        Assert.Equal("com.headtracker.runtime", m.GetProperty("name").GetString());
        Assert.Matches(@"^\d+\.\d+\.\d+$", m.GetProperty("version").GetString());
        Assert.False(string.IsNullOrWhiteSpace(m.GetProperty("displayName").GetString()));
        Version unity = Version.Parse(m.GetProperty("unity").GetString()!);
        Assert.True(unity >= new Version(2021, 2), $"package.json unity {unity}: netstandard2.1 DLLs need 2021.2 or newer");
        JsonElement sample = m.GetProperty("samples").EnumerateArray().Single();
        Assert.True(File.Exists(Path.Combine(f.Package, sample.GetProperty("path").GetString()!, "HeadLook.cs")));

        foreach (string dll in new[] { "HeadTracker.Runtime.dll", "Microsoft.ML.OnnxRuntime.dll", "OpenCvSharp.dll", "System.Text.Json.dll", "HeadTracker.Unity.asmdef", "HeadTrackerSource.cs" })
        {
            Assert.True(File.Exists(Path.Combine(f.Package, "Runtime", dll)), $"Runtime/{dll} is missing");
        }

        foreach (string so in new[] { "libonnxruntime.so", "libOpenCvSharpExtern.so" })
        {
            Assert.True(File.Exists(Path.Combine(f.Package, "Plugins", "Linux", "x86_64", so)), $"Plugins/Linux/x86_64/{so} is missing");
        }

        Assert.True(File.Exists(Path.Combine(f.Package, "Documentation~", "index.md")));
        Assert.True(File.Exists(Path.Combine(f.Package, "Models~", "headtracker-default.onnx")));
        Assert.True(File.Exists(Path.Combine(f.Package, "Models~", "LICENSE")));

        // Unity 2021.2+ provides these; a second copy in a package is a compile error there.
        string[] provided = ["System.Memory.dll", "System.Buffers.dll", "System.Numerics.Vectors.dll", "System.Runtime.CompilerServices.Unsafe.dll"];
        Assert.DoesNotContain(Directory.EnumerateFiles(f.Package, "*.dll", SearchOption.AllDirectories), p => provided.Contains(Path.GetFileName(p)));

        using JsonDocument asmdef = JsonDocument.Parse(File.ReadAllText(Path.Combine(f.Package, "Runtime", "HeadTracker.Unity.asmdef")));
        Assert.Contains("HeadTracker.Runtime.dll", asmdef.RootElement.GetProperty("precompiledReferences").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void Every_file_and_folder_Unity_imports_has_a_meta_with_a_unique_guid()
    {
        Assert.True(f.Result.ExitCode == 0, "build/unity-package.sh failed:\n" + f.Result.All);
        var missing = new List<string>();
        var guids = new Dictionary<string, string>();
        foreach (string path in Imported(f.Package))
        {
            string rel = Path.GetRelativePath(f.Package, path);
            string meta = path + ".meta";
            if (!File.Exists(meta))
            {
                missing.Add(rel);
                continue;
            }

            string text = File.ReadAllText(meta);
            Match g = GuidLine().Match(text);
            Assert.True(g.Success, $"{rel}.meta has no 32-hex-digit guid");
            Assert.True(guids.TryAdd(g.Groups[1].Value, rel), $"{rel}.meta repeats the guid of {guids.GetValueOrDefault(g.Groups[1].Value)}");
            Assert.StartsWith("fileFormatVersion: 2", text, StringComparison.Ordinal);
            if (Directory.Exists(path))
            {
                Assert.Contains("folderAsset: yes", text, StringComparison.Ordinal);
            }
        }

        Assert.True(missing.Count == 0, "no .meta for: " + string.Join(", ", missing));
        Assert.True(guids.Count >= 20, $"only {guids.Count} imported entries");

        // No stray .meta without its file, and none inside the '~' folders Unity does not import.
        foreach (string meta in Directory.EnumerateFiles(f.Package, "*.meta", SearchOption.AllDirectories))
        {
            string target = meta[..^".meta".Length];
            Assert.True(File.Exists(target) || Directory.Exists(target), $"{meta} has no file beside it");
        }

        // The native libraries are for the Linux x64 Editor and player only.
        string so = File.ReadAllText(Path.Combine(f.Package, "Plugins", "Linux", "x86_64", "libonnxruntime.so.meta"));
        Assert.Matches(@"Standalone: Linux64\s+second:\s+enabled: 1", so);
        Assert.Matches(@"Any: \s+second:\s+enabled: 0", so);
        string dll = File.ReadAllText(Path.Combine(f.Package, "Runtime", "HeadTracker.Runtime.dll.meta"));
        Assert.Matches(@"Any: \s+second:\s+enabled: 1", dll);

        // Stable: a guid is the MD5 of the package-relative path, so every build gives the same ones
        // and a project that references the DLL keeps its reference across updates.
        string expected = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData("com.headtracker.runtime/Runtime/HeadTracker.Runtime.dll"u8));
        Assert.Equal(Path.Combine("Runtime", "HeadTracker.Runtime.dll"), guids[expected]);
    }

    [Fact]
    public void The_package_scripts_compile_with_mcs_against_the_runtime_DLL_and_UnityEngine_signatures()
    {
        Assert.True(f.Result.ExitCode == 0, "build/unity-package.sh failed:\n" + f.Result.All);
        string work = Path.Combine(f.Out, "compile");
        Directory.CreateDirectory(work);
        string facades = Path.Combine("/usr/lib/mono/4.5/Facades", "netstandard.dll");
        string runtimeDll = Path.Combine(f.Package, "Runtime", "HeadTracker.Runtime.dll");
        string engine = Path.Combine(work, "UnityEngine.dll");
        string unity = Path.Combine(work, "HeadTracker.Unity.dll");

        Mcs(["-target:library", $"-out:{engine}", Path.Combine(Repo.Root, "tests", "Unity", "UnityEngine.cs")]);
        Mcs(["-target:library", $"-out:{unity}", $"-r:{facades}", $"-r:{engine}", $"-r:{runtimeDll}",
            .. Directory.GetFiles(Path.Combine(f.Package, "Runtime"), "*.cs")]);
        Mcs(["-target:library", $"-out:{Path.Combine(work, "HeadLookSample.dll")}", $"-r:{facades}", $"-r:{engine}", $"-r:{runtimeDll}", $"-r:{unity}",
            .. Directory.GetFiles(Path.Combine(f.Package, "Samples~", "HeadLook"), "*.cs")]);
    }

    private static void Mcs(string[] args)
    {
        Processes.Result r = Processes.Run("mcs", ["-nologo", "-warnaserror", "-langversion:7.2", .. args]);
        Assert.True(r.ExitCode == 0, $"mcs {string.Join(' ', args)} failed:\n{r.All}");
    }

    /// <summary>What Unity imports: every file and folder except dot files, .meta files and folders named NAME~ (and what is in them).</summary>
    private static IEnumerable<string> Imported(string dir)
    {
        foreach (string entry in Directory.EnumerateFileSystemEntries(dir))
        {
            string name = Path.GetFileName(entry);
            if (name.StartsWith('.') || name.EndsWith('~') || name.EndsWith(".meta", StringComparison.Ordinal))
            {
                continue;
            }

            yield return entry;
            if (Directory.Exists(entry))
            {
                foreach (string inner in Imported(entry))
                {
                    yield return inner;
                }
            }
        }
    }

    [GeneratedRegex(@"^guid: ([0-9a-f]{32})$", RegexOptions.Multiline)]
    private static partial Regex GuidLine();
}
