using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using HeadTracking.Runtime;
using HeadTracking.Runtime.Pipeline;
using HeadTracking.Tests;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Synthesis;
using HeadTracking.Trainer.Training;
using Xunit.Abstractions;

namespace HeadTracking.Trainer.Tests;

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
        var trainSynth = SynthWriter.Create(
            new SynthOptions { Size = 128, Seed = 11, MinFaceFraction = 0.2, MaxFaceFraction = 0.4, MaxShift = 0.25, OcclusionProbability = 0 },
            new SynthWriter.Sources(), TextWriter.Null);
        SynthWriter.Write(trainSynth, data, 4000, 2, TextWriter.Null);
        Model = Path.Combine(Dir, "model.onnx");
        TrainRun.Run(
            new TrainRequest
            {
                Data = new DataSpec { Paths = [data] },
                Heads = ["center", "keypoints", "box", "pose"],
                Out = Path.Combine(Dir, "run"),
                Export = Model,
                Options = new TrainOptions { Epochs = 6, FreezeEpochs = 1, Lr = 1e-2, Seed = 1, Threads = 2 },
            },
            TextWriter.Null);

        // Held-out identities only, and another seed: no one in the video was trained on.
        var videoSynth = SynthWriter.Create(new SynthOptions { Size = VideoSize, Seed = 12, ValidFraction = 1, OcclusionProbability = 0 }, new SynthWriter.Sources(), TextWriter.Null);
        VideoDir = Path.Combine(Dir, "video");
        SynthVideo.Write(videoSynth, VideoDir, VideoFrames, 30, Fov, index: 3, threads: 2, TextWriter.Null);
        Truth = LabelsFile.Read(Path.Combine(VideoDir, LabelsFile.FileName), new SkipReport(), strict: true);

        // A small face in a big frame: a tenth of 640 pixels, 8 pixels wide in a 128x128 input.
        var farSynth = SynthWriter.Create(new SynthOptions { Size = 640, Seed = 13, ValidFraction = 1, OcclusionProbability = 0 }, new SynthWriter.Sources(), TextWriter.Null);
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
        using (var tracker = new HeadTracker(options))
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

    /// <summary>Asserts a median error within <paramref name="bound"/> and below
    /// <paramref name="ratio"/> times the constant-guess baseline.</summary>
    private void Within(string name, List<Frame> frames, Func<Frame, double> measured, Func<HeadLabel, double> truth, double bound, double ratio)
    {
        (double error, double baseline) = Compare(name, frames, measured, truth);
        Assert.True(error <= bound, $"{name}: median error {error:F2} above {bound}");
        Assert.True(error < ratio * baseline, $"{name}: median error {error:F2} not below {ratio} x the constant guess's {baseline:F2}");
    }

    private static double CentreError(List<Frame> frames, List<HeadLabel> truth) =>
        Median(frames.Select((fr, i) => (fr, t: truth[i]))
            .Select(p => p.fr.Valid ? Math.Sqrt(Math.Pow(p.fr.Cx - p.t.Center![0], 2) + Math.Pow(p.fr.Cy - p.t.Center![1], 2)) : double.PositiveInfinity));

    // Bounds: about twice what this fixture measured (2026-11-24, 2-core machine; the test prints
    // its figures): a 4,000-image, 7-epoch model is far from the best one can train, and these
    // tests are about the runtime getting every stage right, which the constant-guess ratios show.
    [Fact]
    public void Centre_position_and_pose_on_generated_video_are_within_bounds()
    {
        List<Frame> frames = Track(PoseSource.Auto); // pose head for rotation, keypoints for position
        Assert.Equal(EndToEndFixture.VideoFrames, frames.Count); // unpaced: every frame, in order
        double validFraction = frames.Count(fr => fr.Valid) / (double)frames.Count;
        output.WriteLine($"valid {validFraction:P0}");
        Assert.True(validFraction >= 0.95, $"only {validFraction:P0} of frames have a face");

        double centre = CentreError(frames, f.Truth);
        output.WriteLine($"centre: median error {centre:F2} px of {EndToEndFixture.VideoSize}");
        Assert.True(centre <= 0.04 * EndToEndFixture.VideoSize, $"centre median error {centre:F1} px");
        Within("x cm", frames, fr => fr.X, t => TruthCentre(t).X, 2, 0.5);
        Within("y cm", frames, fr => fr.Y, t => TruthCentre(t).Y, 2, 0.7);
        Within("z cm", frames, fr => fr.Z, t => TruthCentre(t).Z, 5, 0.8);
        Within("yaw", frames, fr => fr.Yaw, t => t.Pose!.Yaw, 18, 0.7);
        Within("pitch", frames, fr => fr.Pitch, t => t.Pose!.Pitch, 10, 0.8);
        Within("roll", frames, fr => fr.Roll, t => t.Pose!.Roll, 7, 0.8);
    }

    [Fact]
    public void Pose_from_keypoints_alone_is_within_bounds()
    {
        List<Frame> frames = Track(PoseSource.Keypoints);
        Assert.True(frames.Count(fr => fr.Valid) >= 0.95 * frames.Count);
        Within("x cm", frames, fr => fr.X, t => TruthCentre(t).X, 2, 0.5);
        Within("z cm", frames, fr => fr.Z, t => TruthCentre(t).Z, 5, 0.8);
        Within("yaw", frames, fr => fr.Yaw, t => t.Pose!.Yaw, 12, 0.6);
        Within("pitch", frames, fr => fr.Pitch, t => t.Pose!.Pitch, 11, 0.9);
        Within("roll", frames, fr => fr.Roll, t => t.Pose!.Roll, 9, 0.95);
    }

    [Fact]
    public void Two_stage_mode_finds_a_small_face_the_whole_frame_model_cannot_and_follows_it()
    {
        List<Frame> whole = Track(PoseSource.Auto, f.FarVideoDir);
        List<Frame> twoStage = Track(PoseSource.Auto, f.FarVideoDir, Repo.BlazeFaceFront);
        double wholeError = CentreError(whole, f.FarTruth), twoStageError = CentreError(twoStage, f.FarTruth);
        double face = Median(f.FarTruth.Select(t => t.Box![2] - t.Box[0]));
        int valid = twoStage.Count(fr => fr.Valid);
        output.WriteLine($"face {face:F0} px wide in 640x640; centre median error: whole frame {wholeError:F1} px ({whole.Count(fr => fr.Valid)} valid), two-stage {twoStageError:F1} px ({valid} valid)");
        Assert.True(valid >= 0.7 * twoStage.Count, $"two-stage: {valid} of {twoStage.Count} frames valid");
        Assert.True(twoStageError <= 15, $"two-stage centre median error {twoStageError:F1} px");
        Assert.True(wholeError > 5 * twoStageError, $"whole frame {wholeError:F1} px vs two-stage {twoStageError:F1} px: the crop should matter here");
        double yaw = Median(twoStage.Select((fr, i) => (fr, t: f.FarTruth[i])).Where(p => p.fr.Valid).Select(p => Math.Abs(p.fr.Yaw - p.t.Pose!.Yaw)));
        output.WriteLine($"two-stage yaw median error {yaw:F1}");
        Assert.True(yaw <= 20, $"two-stage yaw median error {yaw:F1}");
    }

    [Fact]
    public void BlazeFace_finds_the_labelled_face_box_on_synthetic_renders()
    {
        using var detector = new Runtime.Detection.BlazeFaceDetector(Repo.BlazeFaceFront);
        var faces = new Runtime.Detection.FaceDetections();
        using var capture = new OpenCvSharp.VideoCapture(Path.Combine(f.VideoDir, SynthVideo.VideoName));
        using var frame = new OpenCvSharp.Mat();
        var ratios = new List<double>();
        for (int i = 0; capture.Read(frame) && !frame.Empty(); i++)
        {
            detector.Detect(frame, faces);
            double[] box = f.Truth[i].Box!;
            if (faces.Count > 0 && Math.Abs(f.Truth[i].Pose!.Yaw) < 20)
            {
                ratios.Add((box[2] - box[0]) / (faces.Boxes[2] - faces.Boxes[0]));
            }
        }

        double ratio = Median(ratios);
        output.WriteLine($"face box / BlazeFace box: median {ratio:F2} over {ratios.Count} near-frontal frames");
        Assert.True(ratios.Count > 20, $"BlazeFace found the face in only {ratios.Count} near-frontal frames");

        // Synthetic boxes follow BlazeFace's convention (the real crops carry BlazeFace's own box):
        // measured 1.01 with textures at the teacher's landmarks (0.84 when the runtime's
        // DetectorToFaceWidth was measured here, on textures unwrapped the old way).
        Assert.InRange(ratio, 0.9, 1.1);
    }
}
