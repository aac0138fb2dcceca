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

public class TrainBenchTests
{
    [Fact]
    public void Train_benchmark_reports_torchsharp_and_either_a_pytorch_ratio_or_why_not()
    {
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-bench.dll"), "train", "1"], timeoutSeconds: 300);
        Assert.True(r.ExitCode == 0, r.All);
        MatchCollection lines = Regex.Matches(r.StdOut, @"train batch 32, (\d+) thread\(s\): TorchSharp\s+([\d.]+) images/s \(([\d,]+) parameters\); (.*)");
        Assert.NotEmpty(lines);
        foreach (Match m in lines)
        {
            Assert.True(double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) > 0);
            string peer = m.Groups[4].Value;
            Match ratio = Regex.Match(peer, @"PyTorch\s+([\d.]+) images/s \(pytorch [^,]+, ([\d,]+) parameters\); TorchSharp / PyTorch = ([\d.]+)");
            if (ratio.Success)
            {
                // The peer builds the same network, and the ratio is computed from the two rates printed.
                Assert.Equal(m.Groups[3].Value, ratio.Groups[2].Value);
                double expected = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) / double.Parse(ratio.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.InRange(double.Parse(ratio.Groups[3].Value, CultureInfo.InvariantCulture), expected - 0.02, expected + 0.02);
            }
            else
            {
                Assert.StartsWith("PyTorch peer not run: ", peer, StringComparison.Ordinal);
            }
        }
    }
}
