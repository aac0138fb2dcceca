using System;

namespace HeadTracking.Runtime;

/// <summary>How the tracker smooths the pose.</summary>
public enum FilterKind
{
    /// <summary>The One Euro filter: steady when still, quick when moving (the default).</summary>
    OneEuro,

    /// <summary>An exponentially weighted moving average with <see cref="HeadTrackerOptions.EwmaAlpha"/>.</summary>
    Ewma,

    /// <summary>No smoothing.</summary>
    None,
}

/// <summary>Where the tracker takes the head's rotation and position from.</summary>
public enum PoseSource
{
    /// <summary>Rotation from the model's pose head when it has one, else from its keypoints;
    /// position from the keypoints (solvePnP) when the model has the six face keypoints, else from
    /// the face box and head centre. On generated video this measured best (see README).</summary>
    Auto,

    /// <summary>Rotation from the model's pose head; position from the face box's width (against
    /// <see cref="HeadTrackerOptions.FaceWidthCm"/>) and the head centre.</summary>
    PoseHead,

    /// <summary>Rotation and position by solvePnP of the model's keypoints against a generic 3-D face.</summary>
    Keypoints,
}

/// <summary>
/// Everything the tracker needs, set once before <see cref="HeadTracker.Start"/>. Plain data: build
/// it on any thread; the tracker copies what it needs when constructed.
/// </summary>
public sealed class HeadTrackerOptions
{
    /// <summary>A HeadTracker ONNX model (exported by headtracker-train, with its manifest).</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>Webcam index; used when no other source (<see cref="CameraName"/>,
    /// <see cref="VideoPath"/>, <see cref="ImageFolder"/>, <see cref="PushedFrames"/>) is set.</summary>
    public int CameraIndex { get; set; }

    /// <summary>Part of the webcam's name (Linux: as in /sys/class/video4linux/videoN/name, e.g.
    /// "C920"), instead of <see cref="CameraIndex"/>. Other systems: use the index.</summary>
    public string? CameraName { get; set; }

    /// <summary>Frame width to ask the webcam for (it may choose the nearest it has).</summary>
    public int CameraWidth { get; set; } = 640;

    /// <summary>Frame height to ask the webcam for.</summary>
    public int CameraHeight { get; set; } = 480;

    /// <summary>Frame rate to ask the webcam for.</summary>
    public int CameraFps { get; set; } = 30;

    /// <summary>A video file to track instead of a camera.</summary>
    public string? VideoPath { get; set; }

    /// <summary>Play the video at its own frame rate, skipping frames when tracking falls behind,
    /// as a camera would; false reads frames as fast as they are tracked (offline runs).</summary>
    public bool PaceVideo { get; set; } = true;

    /// <summary>A folder of images (jpg, jpeg, png, bmp, in name order) to track instead of a camera.</summary>
    public string? ImageFolder { get; set; }

    /// <summary>The host pushes frames with <see cref="HeadTracker.PushFrame"/> instead of a
    /// camera or video (a game engine's own camera texture).</summary>
    public bool PushedFrames { get; set; }

    /// <summary>Keep a copy of each frame tracked, for <see cref="HeadTracker.TryGetLatestFrame"/>
    /// (a camera preview under the keypoints): one memory copy per frame.</summary>
    public bool KeepFrames { get; set; }

    /// <summary>With a video or image folder: read the next frame only when the host calls
    /// <see cref="HeadTracker.Step"/>, one frame per call (offline runs that use every frame's
    /// result, e.g. rendering each one).</summary>
    public bool StepFrames { get; set; }

    /// <summary>Start the video or image folder again when it ends (otherwise the tracker stops).</summary>
    public bool LoopVideo { get; set; } = true;

    /// <summary>ONNX Runtime threads for one inference; games want their cores, so 1.</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Execution providers to try in order: "cuda", "directml", "coreml", "cpu". The
    /// first that the installed ONNX Runtime package has is used (see
    /// <see cref="HeadTracker.ExecutionProvider"/>); the CPU is the fallback.</summary>
    public string[] ExecutionProviders { get; set; } = ["cuda", "directml", "coreml", "cpu"];

    /// <summary>
    /// Two-stage mode, like opentrack's: a BlazeFace face detector (ONNX) that finds the head when
    /// it is lost; the model then runs on a square crop around the head's last position, which
    /// keeps small or off-centre faces large in the model's input. Null: the model sees the whole
    /// frame.
    /// </summary>
    public string? DetectorPath { get; set; }

    /// <summary>Two-stage mode: the crop's side as a multiple of the face width (the model's face
    /// box, ear to ear). Match the training data: faces a third to half of the image wide want 2 to 3.</summary>
    public double CropScale { get; set; } = 2.5;

    /// <summary>Two-stage mode: the crop stays put until the head's centre drifts this share of
    /// the crop's side from its centre (or the face's size changes by twice this share), so a
    /// still head gives the model the same input every frame; 0 follows every frame. 0.15 (0.04
    /// until a later change on 2026-12-05): under sigma-4 camera noise (a dim room) the narrower band let the crop
    /// jump on the model's own noise, and a still real face read 0.62 deg and 0.43 px through the
    /// default filter instead of 0.043 and 0.088 (headtracker-bench stability --sigma 4); the
    /// price is a head that sits further off the crop's centre while it moves (centre error on
    /// the bench's moving photo 10.9 px instead of 8.3).</summary>
    public double CropDeadband { get; set; } = 0.15;

    /// <summary>Frames whose face probability is below this are not valid (status Searching).</summary>
    public float MinScore { get; set; } = 0.5f;

    /// <summary>The camera's horizontal field of view, for the head's distance and position.</summary>
    public double HorizontalFovDegrees { get; set; } = 60;

    /// <summary>Real width of the face box (ear to ear), for the distance: about 15 cm for adults.</summary>
    public double FaceWidthCm { get; set; } = Contract.Conventions.FaceWidthCm;

    /// <summary>Where the rotation and position come from.</summary>
    public PoseSource PoseFrom { get; set; } = PoseSource.Auto;

    /// <summary>Pose smoothing.</summary>
    public FilterKind Filter { get; set; } = FilterKind.OneEuro;

    /// <summary>One Euro: cutoff in Hz when still (lower: steadier, and slower to settle after a
    /// slow move). 0.2 (until 2026-12-05: 1): a still real face under camera noise then reads
    /// 0.075 deg and 0.12 px of jitter instead of 0.19 and 0.21 (headtracker-bench stability, four
    /// noise draws), at the cost of settling in 0.37 s instead of 0.23 s after a 20 deg/s turn
    /// (FilterTests).</summary>
    public double MinCutoff { get; set; } = 0.2;

    /// <summary>One Euro: how much speed raises the cutoff (higher: less lag). 0.5 (0.05
    /// until a later change on 2026-12-05): with default model version 4 the filtered roll of a moving real face
    /// trails the path by 2 frames instead of 5 and is 1.12 deg off it instead of 1.49, and a still
    /// one under camera noise reads 0.012 deg and 0.030 px instead of 0.018 and 0.060
    /// (headtracker-bench stability, with the crop dead band at 0.04 as it was then). A model with a
    /// noisier raw pose wants 0.05 (version 3, dead band 0.04: 0.20 deg in the worst noise draw with 0.5, 0.045 with 0.05).</summary>
    public double Beta { get; set; } = 0.5;

    /// <summary>One Euro: cutoff of the speed estimate, Hz.</summary>
    public double DerivativeCutoff { get; set; } = 1.0;

    /// <summary>A dead band after the filter for yaw, pitch and roll, in degrees: the filtered
    /// angle holds still until the smoothed one moves this far from it, then follows at this
    /// distance (no jump), as opentrack's filters' dead zone. What is left of a still head's noise
    /// after the filter stays inside it; a turn is at most this much behind. 0, or
    /// <see cref="FilterKind.None"/>: none.</summary>
    public double RotationHoldDegrees { get; set; } = 0.6;

    /// <summary>The same dead band for X, Y and Z, in centimetres. 0: none.</summary>
    public double PositionHoldCm { get; set; } = 0.1;

    /// <summary>EWMA weight of the newest sample, (0, 1].</summary>
    public double EwmaAlpha { get; set; } = 0.5;

    /// <summary>Send the filtered pose to opentrack at this host (UDP), or null for none.</summary>
    public string? OpentrackHost { get; set; }

    /// <summary>opentrack's UDP port.</summary>
    public int OpentrackPort { get; set; } = 4242;

    /// <summary>Record every result as a JSON line to this file, or null for none.</summary>
    public string? RecordPath { get; set; }

    /// <summary>Output mapping per axis, in the order X, Y, Z, yaw, pitch, roll: applied to the
    /// filtered pose (and what opentrack receives), not to the raw one.</summary>
    public AxisMapping[] Axes { get; } = [new(), new(), new(), new(), new(), new()];

    /// <summary>Refuses options out of range, naming the option.</summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    internal void Check()
    {
        if (string.IsNullOrEmpty(ModelPath))
        {
            throw new ArgumentException("HeadTrackerOptions.ModelPath is empty", "options");
        }

        if (!(HorizontalFovDegrees is > 1 and < 179) || !(FaceWidthCm > 0) || IntraOpThreads < 1)
        {
            throw new ArgumentException("HeadTrackerOptions: HorizontalFovDegrees must be in (1, 179), FaceWidthCm positive, IntraOpThreads at least 1", "options");
        }

        int sources = (PushedFrames ? 1 : 0) + (VideoPath != null ? 1 : 0) + (ImageFolder != null ? 1 : 0) + (CameraName != null ? 1 : 0);
        if (sources > 1)
        {
            throw new ArgumentException("HeadTrackerOptions: set at most one of PushedFrames, VideoPath, ImageFolder and CameraName", "options");
        }

        if (StepFrames && VideoPath == null && ImageFolder == null)
        {
            throw new ArgumentException("HeadTrackerOptions.StepFrames needs a VideoPath or an ImageFolder (a camera or pushed frames do not wait)", "options");
        }

        if (!(CropScale is >= 1 and <= 10))
        {
            throw new ArgumentException($"HeadTrackerOptions.CropScale must be in [1, 10], got {CropScale}", "options");
        }

        if (!(CropDeadband is >= 0 and < 0.5))
        {
            throw new ArgumentException($"HeadTrackerOptions.CropDeadband must be in [0, 0.5), got {CropDeadband}", "options");
        }

        if (!(RotationHoldDegrees is >= 0 and <= 10) || !(PositionHoldCm is >= 0 and <= 10))
        {
            throw new ArgumentException($"HeadTrackerOptions.RotationHoldDegrees and PositionHoldCm must be in [0, 10], got {RotationHoldDegrees} and {PositionHoldCm}", "options");
        }

        if (CameraWidth < 1 || CameraHeight < 1 || CameraFps < 1)
        {
            throw new ArgumentException("HeadTrackerOptions: CameraWidth, CameraHeight and CameraFps must be positive", "options");
        }
    }
}

/// <summary>How one axis of the filtered pose reaches the game: a dead zone around zero, a
/// scale, and an optional sign flip.</summary>
public sealed class AxisMapping
{
    /// <summary>Flip the sign.</summary>
    public bool Invert { get; set; }

    /// <summary>Multiplies the value after the dead zone.</summary>
    public double Scale { get; set; } = 1;

    /// <summary>Values within this of zero become zero; beyond it the zone is taken off, so the
    /// output stays continuous.</summary>
    public double DeadZone { get; set; }

    /// <summary>The mapped value of <paramref name="v"/>.</summary>
    public double Apply(double v)
    {
        double d = Math.Abs(v) <= DeadZone ? 0 : v - (Math.Sign(v) * DeadZone);
        return (Invert ? -d : d) * Scale;
    }
}
