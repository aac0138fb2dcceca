// HeadTracker for Unity: one tracker per scene, started and stopped with this component.
// Written for Unity 2021.2 or newer (.NET Standard 2.1 API level, Mono or IL2CPP scripting backend).
using System.IO;
using HeadTracking.Runtime;
using UnityEngine;

namespace HeadTracking.Unity
{
    /// <summary>
    /// Runs a <see cref="HeadTracker"/> while enabled: opens the model and
    /// the webcam (or a video file) in OnEnable, copies the newest result every frame in Update
    /// (never waits, allocates nothing after the first frame) and releases the camera in OnDisable.
    /// Read <see cref="Latest"/> from any script's Update; call <see cref="Recenter"/> to make the
    /// current pose the zero.
    /// </summary>
    [DisallowMultipleComponent]
    public sealed class HeadTrackerSource : MonoBehaviour
    {
        [Tooltip("The model: a path, or a file name looked up in StreamingAssets and then in this package's Models~ folder.")]
        public string modelFile = "headtracker-default.onnx";

        [Tooltip("Webcam index (0: the first camera).")]
        public int cameraIndex = 0;

        [Tooltip("Track this video file instead of a webcam (empty: the webcam).")]
        public string videoFile = "";

        [Tooltip("The webcam's horizontal field of view in degrees (distance and position depend on it).")]
        public float horizontalFieldOfView = 60f;

        [Tooltip("Worker threads for inference (1 leaves the game its cores).")]
        public int inferenceThreads = 1;

        private HeadTracker tracker;
        private TrackingResult latest;
        private string startError;

        /// <summary>The newest result (null until the first frame is processed). Overwritten in place every Update.</summary>
        public TrackingResult Latest { get { return latest; } }

        /// <summary>True once a frame has been processed.</summary>
        public bool HasResult { get; private set; }

        /// <summary>Where the tracker stands; Faulted when it could not start.</summary>
        public TrackerStatus Status { get { return tracker != null ? tracker.Status : startError != null ? TrackerStatus.Faulted : TrackerStatus.Stopped; } }

        /// <summary>Why the tracker stopped or could not start, or null.</summary>
        public string FaultReason { get { return tracker != null && tracker.FaultReason != null ? tracker.FaultReason : startError; } }

        /// <summary>Makes the current head pose the zero of every axis (next frame).</summary>
        public void Recenter()
        {
            if (tracker != null)
            {
                tracker.Recenter();
            }
        }

        private void OnEnable()
        {
            startError = null;
            var options = new HeadTrackerOptions
            {
                ModelPath = ResolveModel(modelFile),
                CameraIndex = cameraIndex,
                VideoPath = string.IsNullOrEmpty(videoFile) ? null : videoFile,
                HorizontalFovDegrees = horizontalFieldOfView,
                IntraOpThreads = inferenceThreads,
            };
            try
            {
                tracker = new HeadTracker(options);
                tracker.Start();
            }
            catch (System.Exception e)
            {
                // Bad model, missing camera, undecodable video: say which, keep the game running.
                startError = e.Message;
                Debug.LogError("HeadTracker could not start: " + e.Message);
                if (tracker != null)
                {
                    tracker.Dispose();
                    tracker = null;
                }
            }
        }

        private void Update()
        {
            if (tracker != null)
            {
                HasResult = tracker.TryGetLatest(ref latest);
            }
        }

        private void OnDisable()
        {
            if (tracker != null)
            {
                tracker.Dispose();
                tracker = null;
            }

            HasResult = false;
        }

        private static string ResolveModel(string file)
        {
            if (Path.IsPathRooted(file))
            {
                return file;
            }

            string streaming = Path.Combine(Application.streamingAssetsPath, file);
            if (File.Exists(streaming))
            {
                return streaming;
            }

            // In the Editor, "Packages/NAME/..." resolves to the package wherever it is installed.
            return Path.GetFullPath(Path.Combine("Packages", "com.headtracker.runtime", "Models~", file));
        }
    }
}
