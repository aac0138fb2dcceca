using System;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using HeadTracker.Tests;

namespace HeadTracker.Bench.Tests;

public class BenchCommandTests
{
    [Fact]
    public void Synth_benchmark_runs_and_reports_a_rate_computed_from_its_own_timing()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "synth", "40"], timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.All);
        Assert.Contains("cores", r.StdOut, StringComparison.Ordinal);
        MatchCollection lines = Regex.Matches(r.StdOut, @"synth 128x128:\s+(\d+) images/s on (\d+) thread\(s\) \((\d+) images, ([\d.]+) s\)");
        Assert.Equal(2, lines.Count);
        foreach (Match m in lines)
        {
            double rate = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            double images = double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            double seconds = double.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
            Assert.Equal(40, images);
            Assert.InRange(rate, (images / seconds) * 0.9, (images / seconds) * 1.1); // the rate is the count over the time it printed
        }
    }

    [Fact]
    public void Unknown_benchmark_is_named()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "warp-drive"]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'warp-drive'", r.StdErr, StringComparison.Ordinal);
    }
}
