namespace HeadTracking.Runtime.Pipeline;

/// <summary>One frame's stage times in Stopwatch ticks, and the worker thread's allocated-bytes
/// counter after the frame (for the benchmark).</summary>
internal readonly struct FrameStages
{
    public FrameStages(long capture, long detect, long preprocess, long inference, long decode, long pose, long publish, long allocatedBytes)
    {
        Capture = capture;
        Detect = detect;
        Preprocess = preprocess;
        Inference = inference;
        Decode = decode;
        Pose = pose;
        Publish = publish;
        AllocatedBytes = allocatedBytes;
    }

    public long Capture { get; }

    public long Detect { get; }

    public long Preprocess { get; }

    public long Inference { get; }

    public long Decode { get; }

    public long Pose { get; }

    public long Publish { get; }

    public long AllocatedBytes { get; }
}
