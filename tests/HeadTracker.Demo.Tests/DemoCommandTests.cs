using System;
using System.IO;
using HeadTracker.Tests;

namespace HeadTracker.Demo.Tests;

/// <summary>The demo as a user runs it: real process, real files.</summary>
public class DemoCommandTests
{
    private static Processes.Result Demo(params string[] args) =>
        Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-demo.dll"), .. args], timeoutSeconds: 120);

    [Fact]
    public void Headless_run_over_sample_photos_writes_frames_and_a_timing_summary()
    {
        string dir = Repo.NewTempDir("demo");
        try
        {
            var r = Demo("--images", Path.Combine(Repo.External, "faces"), "--headless", "--frames", "2", "--out", dir, "--width", "480");
            Assert.True(r.ExitCode == 0, r.All);
            Assert.Contains("Frames: 2, faces found per frame: 3 1", r.StdOut, StringComparison.Ordinal);
            Assert.Contains("inference", r.StdOut, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "frame_0000.png")));
            Assert.True(File.Exists(Path.Combine(dir, "frame_0001.png")));
            Assert.False(File.Exists(Path.Combine(dir, "frame_0002.png")));
            using var png = OpenCvSharp.Cv2.ImRead(Path.Combine(dir, "frame_0000.png"));
            Assert.Equal(480, png.Width);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("missing-model")]
    [InlineData("corrupt-model")]
    [InlineData("unreadable-video")]
    [InlineData("missing-video")]
    [InlineData("absent-camera")]
    [InlineData("unknown-option")]
    [InlineData("bad-number")]
    public void Bad_input_gets_one_line_naming_it_and_a_nonzero_exit(string kind)
    {
        string dir = Repo.NewTempDir("demo-bad");
        try
        {
            string corrupt = Path.Combine(dir, "corrupt.onnx");
            File.WriteAllText(corrupt, "not a model");
            string notVideo = Path.Combine(dir, "clip.avi");
            File.WriteAllText(notVideo, "not a video");
            string missing = Path.Combine(dir, "nothing-here.onnx");
            string images = Path.Combine(Repo.External, "faces");

            (string[] args, string expected) = kind switch
            {
                "missing-model" => (new[] { "--images", images, "--model", missing, "--headless", "--out", dir }, missing),
                "corrupt-model" => (["--images", images, "--model", corrupt, "--headless", "--out", dir], corrupt),
                "unreadable-video" => (["--video", notVideo, "--headless", "--out", dir], notVideo),
                "missing-video" => (["--video", Path.Combine(dir, "nope.mp4"), "--headless", "--out", dir], "nope.mp4"),
                "absent-camera" => (["--camera", "7", "--headless", "--out", dir], "camera 7"),
                "unknown-option" => (["--colour", "red"], "'--colour'"),
                "bad-number" => (["--frames", "many"], "--frames"),
                _ => throw new ArgumentOutOfRangeException(nameof(kind)),
            };

            var r = Demo(args);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(expected, r.StdErr, StringComparison.Ordinal);
            Assert.StartsWith("headtracker-demo: ", r.StdErr, StringComparison.Ordinal);
            Assert.Single(r.StdErr.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", r.All, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
