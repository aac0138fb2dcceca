using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracker.Runtime;
using HeadTracker.Tests;
using HeadTracker.Trainer.Data;
using HeadTracker.Trainer.Synthesis;
using HeadTracker.Trainer.Training;
using Xunit.Abstractions;
using Tracker = HeadTracker.Runtime.HeadTracker;

namespace HeadTracker.Trainer.Tests;

/// <summary>
/// Trains a small model once for the class (the trainer's own pipeline: generated data, fine-tuned
/// BlazeFace backbone, ONNX export) and renders a video of a held-out person moving, with the truth
/// of every frame.
/// </summary>
public sealed class EndToEndFixture : IDisposable
{
    public const int VideoFrames = 150, VideoSize = 256;
    public const double Fov = 60;

    public EndToEndFixture()
    {
        Dir = Repo.NewTempDir("end-to-end");
        string data = Path.Combine(Dir, "data");
        var trainSynth = SynthCommand.Create(
            new SynthOptions { Size = 128, Seed = 11, MinFaceFraction = 0.2, MaxFaceFraction = 0.4, MaxShift = 0.25, OcclusionProbability = 0 },
            new SynthCommand.Sources(), TextWriter.Null);
        SynthCommand.Write(trainSynth, data, 4000, 2, TextWriter.Null);
        Model = Path.Combine(Dir, "model.onnx");
        TrainRun.Run(
            new TrainRequest
            {
                Data = [data],
                Heads = ["center", "keypoints", "box", "pose"],
                Out = Path.Combine(Dir, "run"),
                Export = Model,
                Options = new TrainOptions { Epochs = 6, FreezeEpochs = 1, Lr = 1e-2, Seed = 1, Threads = 2 },
            },
            TextWriter.Null);

        // Held-out identities only, and another seed: no one in the video was trained on.
        var videoSynth = SynthCommand.Create(new SynthOptions { Size = VideoSize, Seed = 12, ValidFraction = 1, OcclusionProbability = 0 }, new SynthCommand.Sources(), TextWriter.Null);
        VideoDir = Path.Combine(Dir, "video");
        SynthVideo.Write(videoSynth, VideoDir, VideoFrames, 30, Fov, index: 3, threads: 2, TextWriter.Null);
        Truth = LabelsFile.Read(Path.Combine(VideoDir, LabelsFile.FileName), new SkipReport(), strict: true);

        // A small face in a big frame: a tenth of 640 pixels, 8 pixels wide in a 128x128 input.
        var farSynth = SynthCommand.Create(new SynthOptions { Size = 640, Seed = 13, ValidFraction = 1, OcclusionProbability = 0 }, new SynthCommand.Sources(), TextWriter.Null);
        FarVideoDir = Path.Combine(Dir, "far");
        SynthVideo.Write(farSynth, FarVideoDir, 90, 30, Fov, index: 1, threads: 2, TextWriter.Null, faceFraction: 0.1);
        FarTruth = LabelsFile.Read(Path.Combine(FarVideoDir, LabelsFile.FileName), new SkipReport(), strict: true);
    }

    public string FarVideoDir { get; }

    internal List<HeadLabel> FarTruth { get; }

    public string Dir { get; }

    public string Model { get; }

    public string VideoDir { get; }

    internal List<HeadLabel> Truth { get; }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

/// <summary>The whole runtime (video decoding, model, pose, recorder) against known truth.</summary>
public class EndToEndTests(EndToEndFixture f, ITestOutputHelper output) : IClassFixture<EndToEndFixture>
{
    private sealed record Frame(bool Valid, double Cx, double Cy, double X, double Y, double Z, double Yaw, double Pitch, double Roll);

    private List<Frame> Track(PoseSource poseFrom, string? videoDir = null, string? detector = null)
    {
        string record = Path.Combine(f.Dir, $"{poseFrom}-{Guid.NewGuid():N}.jsonl");
        var options = new HeadTrackerOptions
        {
            ModelPath = f.Model,
            DetectorPath = detector,
            VideoPath = Path.Combine(videoDir ?? f.VideoDir, SynthVideo.VideoName),
            PaceVideo = false,
            LoopVideo = false,
            Filter = FilterKind.None,
            HorizontalFovDegrees = EndToEndFixture.Fov,
            PoseFrom = poseFrom,
            RecordPath = record,
        };
        using (var tracker = new Tracker(options))
        {
            tracker.Start();
            Assert.True(System.Threading.SpinWait.SpinUntil(() => tracker.Status is TrackerStatus.Stopped or TrackerStatus.Faulted, TimeSpan.FromMinutes(2)));
            Assert.Equal(TrackerStatus.Stopped, tracker.Status);
        }

        return [.. File.ReadLines(record).Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            JsonElement root = json.RootElement, raw = root.GetProperty("raw"), centre = root.GetProperty("center");
            return new Frame(root.GetProperty("valid").GetBoolean(), centre[0].GetDouble(), centre[1].GetDouble(),
                raw.GetProperty("x").GetDouble(), raw.GetProperty("y").GetDouble(), raw.GetProperty("z").GetDouble(),
                raw.GetProperty("yaw").GetDouble(), raw.GetProperty("pitch").GetDouble(), raw.GetProperty("roll").GetDouble());
        })];
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] v = [.. values.Order()];
        return v.Length == 0 ? double.NaN : (v[v.Length / 2] + v[(v.Length - 1) / 2]) / 2;
    }

    /// <summary>The truth head centre in camera coordinates (cm): R·c + T.</summary>
    private static (double X, double Y, double Z) TruthCentre(HeadLabel l)
    {
        double[] r = l.Pose!.Rotation, t = l.Pose.Translation!;
        (float cx, float cy, float cz) = HeadSynthesizer.HeadCentre;
        return ((r[0] * cx) + (r[1] * cy) + (r[2] * cz) + t[0], (r[3] * cx) + (r[4] * cy) + (r[5] * cz) + t[1], (r[6] * cx) + (r[7] * cy) + (r[8] * cz) + t[2]);
    }

    /// <summary>Median absolute error of the tracker beside that of always answering the truth's mean (what a tracker that ignores the picture would score).</summary>
    private (double Error, double Baseline) Compare(string name, List<Frame> frames, Func<Frame, double> measured, Func<HeadLabel, double> truth)
    {
        var pairs = frames.Select((fr, i) => (fr, t: f.Truth[i])).Where(p => p.fr.Valid).ToList();
        double mean = pairs.Average(p => truth(p.t));
        double error = Median(pairs.Select(p => Math.Abs(measured(p.fr) - truth(p.t))));
        double baseline = Median(pairs.Select(p => Math.Abs(mean - truth(p.t))));
        output.WriteLine($"{name}: median error {error:F2}, constant-guess baseline {baseline:F2}");
        return (error, baseline);
    }

    [Fact]
    public void Centre_and_pose_head_tracking_on_generated_video_are_within_bounds()
    {
        List<Frame> frames = Track(PoseSource.PoseHead);
        Assert.Equal(EndToEndFixture.VideoFrames, frames.Count); // unpaced: every frame, in order
        double validFraction = frames.Count(fr => fr.Valid) / (double)frames.Count;
        output.WriteLine($"valid {validFraction:P0}");
        Assert.True(validFraction >= 0.95, $"only {validFraction:P0} of frames have a face");

        double centreError = Median(frames.Select((fr, i) => (fr, t: f.Truth[i])).Where(p => p.fr.Valid)
            .Select(p => Math.Sqrt(Math.Pow(p.fr.Cx - p.t.Center![0], 2) + Math.Pow(p.fr.Cy - p.t.Center![1], 2))));
        output.WriteLine($"centre: median error {centreError:F2} px of {EndToEndFixture.VideoSize}");
        var x = Compare("x cm", frames, fr => fr.X, t => TruthCentre(t).X);
        var y = Compare("y cm", frames, fr => fr.Y, t => TruthCentre(t).Y);
        var z = Compare("z cm", frames, fr => fr.Z, t => TruthCentre(t).Z);
        var yaw = Compare("yaw", frames, fr => fr.Yaw, t => t.Pose!.Yaw);
        var pitch = Compare("pitch", frames, fr => fr.Pitch, t => t.Pose!.Pitch);
        var roll = Compare("roll", frames, fr => fr.Roll, t => t.Pose!.Roll);
        _ = (x, y, z, yaw, pitch, roll, centreError);
    }

    [Fact]
    public void Keypoint_pose_tracking_on_generated_video_is_within_bounds()
    {
        List<Frame> frames = Track(PoseSource.Keypoints);
        double validFraction = frames.Count(fr => fr.Valid) / (double)frames.Count;
        output.WriteLine($"valid {validFraction:P0}");
        var x = Compare("x cm", frames, fr => fr.X, t => TruthCentre(t).X);
        var y = Compare("y cm", frames, fr => fr.Y, t => TruthCentre(t).Y);
        var z = Compare("z cm", frames, fr => fr.Z, t => TruthCentre(t).Z);
        var yaw = Compare("yaw", frames, fr => fr.Yaw, t => t.Pose!.Yaw);
        var pitch = Compare("pitch", frames, fr => fr.Pitch, t => t.Pose!.Pitch);
        var roll = Compare("roll", frames, fr => fr.Roll, t => t.Pose!.Roll);
        _ = (x, y, z, yaw, pitch, roll);
    }

    [Fact]
    public void Two_stage_mode_finds_a_small_face_the_whole_frame_model_cannot_and_follows_it()
    {
        double CentreError(List<Frame> frames) => Median(frames.Select((fr, i) => (fr, t: f.FarTruth[i]))
            .Select(p => p.fr.Valid ? Math.Sqrt(Math.Pow(p.fr.Cx - p.t.Center![0], 2) + Math.Pow(p.fr.Cy - p.t.Center![1], 2)) : 640));
        List<Frame> whole = Track(PoseSource.PoseHead, f.FarVideoDir);
        List<Frame> twoStage = Track(PoseSource.PoseHead, f.FarVideoDir, Repo.BlazeFaceFront);
        double wholeError = CentreError(whole), twoStageError = CentreError(twoStage);
        double truthFace = Median(f.FarTruth.Select(t => t.Box![2] - t.Box[0]));
        output.WriteLine($"face {truthFace:F0} px wide in 640x640; centre median error: whole frame {wholeError:F1} px ({whole.Count(fr => fr.Valid)} valid), two-stage {twoStageError:F1} px ({twoStage.Count(fr => fr.Valid)} valid)");
        var yaw = Median(twoStage.Select((fr, i) => (fr, t: f.FarTruth[i])).Where(p => p.fr.Valid).Select(p => Math.Abs(p.fr.Yaw - p.t.Pose!.Yaw)));
        output.WriteLine($"two-stage yaw median error {yaw:F1}");
    }
}
