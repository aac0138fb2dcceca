namespace HeadTracking.Runtime;

/// <summary>Mean milliseconds per frame that the tracker's worker spends in each stage.</summary>
public readonly struct StageTimes
{
    internal StageTimes(double capture, double detect, double preprocess, double inference, double decode, double pose, double total)
    {
        Capture = capture;
        Detect = detect;
        Preprocess = preprocess;
        Inference = inference;
        Decode = decode;
        Pose = pose;
        Total = total;
    }

    /// <summary>Waiting for and decoding the frame (a camera's wait for its next frame included).</summary>
    public double Capture { get; }

    /// <summary>The face detector, in two-stage mode (averaged over every frame, also those it skipped).</summary>
    public double Detect { get; }

    /// <summary>Letterbox or crop, and normalisation into the model's input.</summary>
    public double Preprocess { get; }

    /// <summary>ONNX Runtime's run of the model.</summary>
    public double Inference { get; }

    /// <summary>Decoding every head into frame pixels.</summary>
    public double Decode { get; }

    /// <summary>Pose (solvePnP or pose head), smoothing, publishing, and the outputs (opentrack, recorder).</summary>
    public double Pose { get; }

    /// <summary>All of it, capture included.</summary>
    public double Total { get; }
}
