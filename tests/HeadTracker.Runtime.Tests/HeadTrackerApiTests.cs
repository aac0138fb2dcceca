using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using HeadTracking.Tests;
using OpenCvSharp;
using Xunit;

namespace HeadTracking.Runtime.Tests;

/// <summary>
/// The public API a host uses beyond the game loop, on the shipped model: stepping a recording
/// frame by frame, the kept frame that matches each result, keypoint names, pose as a matrix, and
/// the refusals when an option is missing.
/// </summary>
public sealed class HeadTrackerApiTests : IDisposable
{
    private static readonly string Model = Path.Combine(Repo.Root, "models", "headtracker-default.onnx");
    private readonly string _dir = Repo.NewTempDir("api");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Stepping_a_folder_gives_one_result_per_step_with_the_very_frame_it_came_from()
    {
        // Three different pictures of a real face, lossless, so the kept copy must match byte for byte.
        using Mat scene = StableCropTests.Scene();
        var frames = new Mat[3];
        for (int i = 0; i < frames.Length; i++)
        {
            frames[i] = scene[new Rect(i * 40, i * 20, 480, 360)].Clone();
            Cv2.ImWrite(Path.Combine(_dir, $"frame_{i}.png"), frames[i]);
        }

        using var tracker = new HeadTracker(new HeadTrackerOptions
        {
            ModelPath = Model,
            DetectorPath = Repo.BlazeFaceFront,
            ImageFolder = _dir,
            LoopVideo = false,
            StepFrames = true,
            KeepFrames = true,
        });
        tracker.Start();
        Assert.Contains(_dir, tracker.Source);
        Assert.Equal(["right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear"], tracker.KeypointNames);

        TrackingResult? result = null;
        CameraFrame? frame = null;
        Thread.Sleep(300);
        Assert.False(tracker.TryGetLatest(ref result), "a stepped tracker read a frame before the first Step");
        for (int i = 0; i < frames.Length; i++)
        {
            tracker.Step();
            var clock = Stopwatch.StartNew();
            while (!(tracker.TryGetLatest(ref result) && result.Sequence == i + 1))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"no result for step {i + 1} (status {tracker.Status}: {tracker.FaultReason})");
                Thread.Sleep(2);
            }

            Thread.Sleep(100);
            Assert.True(tracker.TryGetLatest(ref result));
            Assert.Equal(i + 1, result.Sequence); // nothing more was read without a step
            Assert.True(tracker.TryGetLatestFrame(ref frame));
            Assert.Equal(result.Sequence, frame.Sequence);
            Assert.Equal((frames[i].Width, frames[i].Height), (frame.Width, frame.Height));
            Assert.Equal((result.FrameWidth, result.FrameHeight), (frame.Width, frame.Height));
            byte[] expected = new byte[frame.Width * frame.Height * 3];
            Marshal.Copy(frames[i].Data, expected, 0, expected.Length);
            Assert.True(expected.AsSpan().SequenceEqual(frame.PixelsBgr.AsSpan(0, expected.Length)), $"the kept frame {i + 1} is not the picture that was read");
            Assert.True(result.Valid, $"no head found in frame {i + 1} of a real face");
        }

        // The pose as a matrix is a rotation: orthonormal rows, determinant 1.
        Span<double> m = stackalloc double[9];
        result!.Filtered.RotationMatrix(m);
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
            {
                double dot = (m[r * 3] * m[c * 3]) + (m[(r * 3) + 1] * m[(c * 3) + 1]) + (m[(r * 3) + 2] * m[(c * 3) + 2]);
                Assert.InRange(dot, (r == c ? 1 : 0) - 1e-9, (r == c ? 1 : 0) + 1e-9);
            }
        }

        tracker.Step(); // the folder is over: the worker reads the end and stops
        var end = Stopwatch.StartNew();
        while (tracker.Status != TrackerStatus.Stopped && end.Elapsed < TimeSpan.FromSeconds(20))
        {
            Thread.Sleep(5);
        }

        Assert.Equal(TrackerStatus.Stopped, tracker.Status);
        foreach (Mat f in frames)
        {
            f.Dispose();
        }
    }

    [Fact]
    public void Stop_returns_while_the_worker_waits_for_a_step()
    {
        Cv2.ImWrite(Path.Combine(_dir, "frame.png"), new Mat(48, 64, MatType.CV_8UC3, Scalar.All(90)));
        using var tracker = new HeadTracker(new HeadTrackerOptions { ModelPath = Model, ImageFolder = _dir, StepFrames = true });
        tracker.Start();
        Thread.Sleep(200);
        var clock = Stopwatch.StartNew();
        tracker.Stop();
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"Stop took {clock.Elapsed.TotalSeconds:F1} s while the worker waited for a step");
        Assert.Equal(TrackerStatus.Stopped, tracker.Status);
    }

    [Fact]
    public void Missing_options_are_named_when_their_features_are_used()
    {
        var e = Assert.Throws<ArgumentException>(() => new HeadTracker(new HeadTrackerOptions { ModelPath = Model, StepFrames = true }));
        Assert.Contains("StepFrames", e.Message);

        Cv2.ImWrite(Path.Combine(_dir, "frame.png"), new Mat(48, 64, MatType.CV_8UC3, Scalar.All(90)));
        using var tracker = new HeadTracker(new HeadTrackerOptions { ModelPath = Model, ImageFolder = _dir });
        CameraFrame? frame = null;
        Assert.Contains("KeepFrames", Assert.Throws<InvalidOperationException>(() => tracker.TryGetLatestFrame(ref frame)).Message);
        Assert.Contains("StepFrames", Assert.Throws<InvalidOperationException>(() => tracker.Step()).Message);
        Assert.Empty(tracker.KeypointNames); // before Start
        Assert.Null(tracker.Source);
        Assert.Throws<ArgumentException>(() => default(HeadPose).RotationMatrix(new double[8]));
    }
}
