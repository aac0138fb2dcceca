using System;
using System.IO;
using System.Linq;
using HeadTracking.Tests;

namespace HeadTracking.Build.Tests;

public class TorchSharpPatchTests
{
    private const string Version = "GLIBCXX_3.4.32";
    private static readonly string s_native = Path.Combine("runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    private static bool SystemLacksVersion
    {
        get
        {
            string? lib = ElfVersionNeeds.FindSystemLibStdCxx();
            return lib != null && !ElfVersionNeeds.Defines(File.ReadAllBytes(lib), Version);
        }
    }

    private static string NuGetCacheCopy()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(packages, "torchsharp", "0.107.0", s_native);
        Assert.True(File.Exists(path), $"TorchSharp's native library is not in the NuGet cache at {path}");
        return path;
    }

    [Fact]
    public void Build_output_copy_is_patched_and_the_nuget_cache_copy_is_not()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test is about Linux builds");
        string built = Path.Combine(BuildOutput.Of("src/Trainer"), s_native);
        Assert.True(File.Exists(built), $"{built} is missing: build the solution first");

        ElfVersionNeed builtNeed = ElfVersionNeeds.Read(File.ReadAllBytes(built)).Single(n => n.Version == Version);
        ElfVersionNeed cacheNeed = ElfVersionNeeds.Read(File.ReadAllBytes(NuGetCacheCopy())).Single(n => n.Version == Version);

        Assert.Equal("libstdc++.so.6", builtNeed.File);
        Assert.False(cacheNeed.IsWeak, "the NuGet cache copy was modified; only build output may be patched");
        // Patched exactly when the system libstdc++ lacks the version.
        Assert.Equal(SystemLacksVersion, builtNeed.IsWeak);
    }

    [Fact]
    public void Mark_weak_changes_only_that_requirement_and_is_idempotent()
    {
        byte[] bytes = File.ReadAllBytes(NuGetCacheCopy());
        var before = ElfVersionNeeds.Read(bytes);
        Assert.Contains(before, n => n.Version == "GLIBC_2.2.5");

        Assert.True(ElfVersionNeeds.MarkWeak(bytes, Version));
        Assert.False(ElfVersionNeeds.MarkWeak(bytes, Version));

        var after = ElfVersionNeeds.Read(bytes);
        Assert.Equal(before.Count, after.Count);
        for (int i = 0; i < before.Count; i++)
        {
            Assert.Equal(before[i].Version, after[i].Version);
            Assert.Equal(before[i].Version == Version, after[i].IsWeak && !before[i].IsWeak);
        }

        // Only the two bytes of one vna_flags field differ from the original file.
        byte[] original = File.ReadAllBytes(NuGetCacheCopy());
        int differing = original.Zip(bytes).Count(p => p.First != p.Second);
        Assert.Equal(1, differing);
    }

    [Fact]
    public void Patch_file_replaces_the_file_whole_and_keeps_its_timestamp()
    {
        string dir = Repo.NewTempDir("elf");
        try
        {
            string copy = Path.Combine(dir, "libLibTorchSharp.so");
            File.Copy(NuGetCacheCopy(), copy);
            var stamp = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc);
            File.SetLastWriteTimeUtc(copy, stamp);

            Assert.True(ElfVersionNeeds.PatchFile(copy, Version));
            Assert.False(ElfVersionNeeds.PatchFile(copy, Version));

            Assert.True(ElfVersionNeeds.Read(File.ReadAllBytes(copy)).Single(n => n.Version == Version).IsWeak);
            Assert.Equal(stamp, File.GetLastWriteTimeUtc(copy));
            Assert.Equal(new[] { copy }, Directory.GetFiles(dir)); // no temporary file left behind
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bad_input_is_reported_as_invalid_data_not_a_crash()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read("not an elf file at all, just text"u8.ToArray()));

        byte[] truncated = File.ReadAllBytes(NuGetCacheCopy()).AsSpan(0, 4096).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(truncated));
        Assert.Contains("outside the file", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_output_is_patched_too()
    {
        string dir = Repo.NewTempDir("publish");
        try
        {
            var r = Processes.Run("dotnet", ["publish", "src/Trainer/HeadTracker.Trainer.csproj", "-c", BuildOutput.Configuration,
                "--no-build", "-nologo", "-o", dir]);
            Assert.True(r.ExitCode == 0, r.All);
            string published = Path.Combine(dir, s_native);
            Assert.True(File.Exists(published), $"{published} missing; published files: {string.Join(", ", Directory.GetFiles(dir).Take(10))}");
            Assert.Equal(SystemLacksVersion, ElfVersionNeeds.Read(File.ReadAllBytes(published)).Single(n => n.Version == Version).IsWeak);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
