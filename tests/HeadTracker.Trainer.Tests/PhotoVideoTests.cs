using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Runtime.Detection;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using OpenCvSharp;

namespace HeadTracking.Trainer.Tests;

/// <summary>The real-face clip: a photo moved along a known path, with its truth.</summary>
public sealed class PhotoVideoTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("photo-video");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_truth_follows_the_face_that_the_teacher_finds_in_every_frame()
    {
        using var clip = new PhotoVideo(Repo.Fetched("faces/sample6.jpg"), Repo.BlazeFaceFront);
        using var detector = new BlazeFaceDetector(Repo.BlazeFaceFront);
        var faces = new FaceDetections();
        using var frame = new Mat();
        foreach (int i in new[] { 0, 40, 75, 130, 200 })
        {
            PhotoMotion m = PhotoMotion.At(i, 30, 30, clip.Width, clip.Height);
            clip.Render(m, frame);
            HeadLabel truth = clip.Truth(m, "x");
            detector.Detect(frame, faces);

            // The others in the photo are blurred: one face, where the truth says, its size.
            Assert.True(faces.Count == 1, $"frame {i}: {faces.Count} faces: {string.Join(" ", faces.Boxes.Take(faces.Count * 4).Select(v => v.ToString("F0")))}, scores {string.Join(" ", faces.Scores.Take(faces.Count))}");
            float[] b = faces.Boxes;
            double width = truth.Box![2] - truth.Box[0];
            double dx = ((b[0] + b[2]) / 2) - truth.Center![0], dy = ((b[1] + b[3]) / 2) - truth.Center[1];
            Assert.True(Math.Sqrt((dx * dx) + (dy * dy)) < 0.1 * width, $"frame {i} (roll {m.Roll:F1}): face found {dx:F1}, {dy:F1} px from the truth");
            Assert.InRange((b[2] - b[0]) / width, 0.85, 1.15);
            for (int k = 0; k < 2; k++) // the eyes, which BlazeFace finds best
            {
                double ex = faces.Keypoints[2 * k] - truth.Keypoints![k][0], ey = faces.Keypoints[(2 * k) + 1] - truth.Keypoints[k][1];
                Assert.True(Math.Sqrt((ex * ex) + (ey * ey)) < 0.08 * width, $"frame {i}: eye {k} found {ex:F1}, {ey:F1} px from the truth");
            }
        }

        // Still, then moving from rest along smooth sines.
        Assert.Equal(new PhotoMotion(0, 1, 0, 0), PhotoMotion.At(29, 30, 30, 640, 480));
        double[] roll = Enumerable.Range(0, 400).Select(i => PhotoMotion.At(i, 30, 30, 640, 480).Roll).ToArray();
        Assert.InRange(roll.Max(), 11, 12);
        Assert.InRange(roll.Min(), -12, -11);
        Assert.True(roll.Zip(roll.Skip(1)).All(p => Math.Abs(p.First - p.Second) < 0.7), "the roll jumps between frames"); // 12 x 2 pi / 5.3 s = 14 deg/s, a little more while easing in
    }

    [Fact]
    public void The_command_writes_a_video_its_truth_and_its_motion()
    {
        string output = Path.Combine(_dir, "clip");
        var r = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-train.dll"), "photo-video", "--out", output, "--frames", "40", "--still", "10"], timeoutSeconds: 120);
        Assert.True(r.ExitCode == 0, r.All);

        using (var video = new VideoCapture(Path.Combine(output, PhotoVideo.VideoName)))
        {
            Assert.Equal(40, (int)video.FrameCount);
            Assert.Equal((640, 480), (video.FrameWidth, video.FrameHeight));
        }

        HeadLabel[] labels = [.. LabelsFile.Read(Path.Combine(output, LabelsFile.FileName), new SkipReport(), strict: true)];
        Assert.Equal(40, labels.Length);
        Assert.Equal([320.0, 216.0], labels[0].Center!.Select(v => Math.Round(v, 6)));
        string[] motion = File.ReadAllLines(Path.Combine(output, PhotoVideo.MotionName));
        Assert.Equal(40, motion.Length);
        using var last = JsonDocument.Parse(motion[^1]);
        Assert.NotEqual(0, last.RootElement.GetProperty("roll").GetDouble());

        var bad = Processes.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "headtracker-train.dll"), "photo-video", "--out", Path.Combine(_dir, "bad"), "--photo", Path.Combine(_dir, "none.jpg")], timeoutSeconds: 120);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("none.jpg", bad.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "bad")));
    }
}
